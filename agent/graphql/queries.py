"""Reading: each field asks the same service, with the same checks, as its REST route."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry

from agent.api.projects import billable_public, project_public
from agent.graphql import types as t
from agent.graphql.context import Info
from skills.calendar.schemas import TimeRange
from skills.calendar.service import CalendarService, instance, public
from skills.finance.invoices import InvoiceService
from skills.finance.reports import FinanceReports
from skills.finance.schemas import GroupBy, Period, TransactionQuery
from skills.finance.service import FinanceService
from skills.households import HouseholdService
from skills.projects import ProjectService
from skills.tasks.schemas import TaskQuery
from skills.tasks.service import TaskService
from store.models import TransactionKind


@strawberry.type
class Query:
    @strawberry.field(description="Tasks, filtered as GET /v1/tasks filters them")
    async def tasks(self, info: Info, filter: t.TaskFilter | None = None) -> list[t.Task]:
        async with info.context.work() as ctx:
            service = TaskService(ctx)
            query = filter.to_pydantic() if filter else TaskQuery()
            return [
                t.Task.from_pydantic(x) for x in await service.public(await service.search(query))
            ]

    @strawberry.field
    async def task(self, info: Info, id: uuid.UUID) -> t.Task:
        async with info.context.work() as ctx:
            service = TaskService(ctx)
            [found] = await service.public([await service.get(id)])
            return t.Task.from_pydantic(found)

    @strawberry.field(description="Your lists and those shared with you; ask for items too")
    async def lists(self, info: Info) -> list[t.TaskList]:
        async with info.context.work() as ctx:
            service = TaskService(ctx)
            return [t.TaskList.from_pydantic(x) for x in await service.lists()]

    @strawberry.field(description="Occurrences in a range, repeating events expanded")
    async def events(self, info: Info, start: datetime, end: datetime) -> list[t.Occurrence]:
        async with info.context.work() as ctx:
            calendar = CalendarService(ctx)
            found = await calendar.expansion(TimeRange(start=start, end=end))
            return [t.Occurrence.from_pydantic(instance(o)) for o in found.occurrences]

    @strawberry.field
    async def event(self, info: Info, id: uuid.UUID) -> t.Event:
        async with info.context.work() as ctx:
            calendar = CalendarService(ctx)
            return t.Event.from_pydantic(public(await calendar.get(id)))

    @strawberry.field(description="Pairs of occurrences that overlap in a range")
    async def conflicts(self, info: Info, start: datetime, end: datetime) -> list[t.Conflict]:
        async with info.context.work() as ctx:
            calendar = CalendarService(ctx)
            found = await calendar.find_conflicts(TimeRange(start=start, end=end))
            return [t.Conflict.from_pydantic(x) for x in found]

    @strawberry.field(description="Suggested free slots in working hours, best first")
    async def free_time(self, info: Info, request: t.FreeTimeRequest) -> list[t.FreeTime]:
        async with info.context.work() as ctx:
            calendar = CalendarService(ctx)
            found = await calendar.suggest_optimal_time(request.to_pydantic())
            return [t.FreeTime.from_pydantic(x) for x in found]

    @strawberry.field
    async def transactions(
        self, info: Info, filter: t.TransactionFilter | None = None
    ) -> list[t.Transaction]:
        async with info.context.work() as ctx:
            finance = FinanceService(ctx)
            query = filter.to_pydantic() if filter else TransactionQuery()
            found = await finance.public(await finance.search(query))
            return [t.Transaction.from_pydantic(x) for x in found]

    @strawberry.field
    async def transaction(self, info: Info, id: uuid.UUID) -> t.Transaction:
        async with info.context.work() as ctx:
            finance = FinanceService(ctx)
            [found] = await finance.public([await finance.get(id)])
            return t.Transaction.from_pydantic(found)

    @strawberry.field(
        description="Totals in a period (end exclusive), grouped; with householdId that "
        "household's books instead of your own money"
    )
    async def summary(
        self,
        info: Info,
        start: date,
        end: date,
        by: GroupBy = GroupBy.CATEGORY,
        kind: TransactionKind = TransactionKind.EXPENSE,
        currency: str | None = None,
        household_id: uuid.UUID | None = None,
    ) -> t.Summary:
        async with info.context.work() as ctx:
            reports = FinanceReports(ctx, household_id)
            found = await reports.summary(Period(start=start, end=end), by, kind, currency)
            return t.Summary.from_pydantic(found)

    @strawberry.field
    async def projects(self, info: Info) -> list[t.Project]:
        async with info.context.work() as ctx:
            found = await ProjectService(ctx).list()
            return [t.Project.from_pydantic(project_public(p)) for p in found]

    @strawberry.field(description="By id or by name")
    async def project(self, info: Info, ref: str) -> t.Project:
        async with info.context.work() as ctx:
            return t.Project.from_pydantic(project_public(await ProjectService(ctx).get(ref)))

    @strawberry.field(description="A project's revenue, costs by category, margin and budget")
    async def costing(self, info: Info, project: str) -> t.Costing:
        async with info.context.work() as ctx:
            found = await FinanceReports(ctx).calculate_job_costing(project)
            return t.Costing.from_pydantic(found)

    @strawberry.field(description="A project's billable work (openOnly: not yet invoiced)")
    async def billables(
        self, info: Info, project: str, open_only: bool = False
    ) -> list[t.Billable]:
        async with info.context.work() as ctx:
            found = await InvoiceService(ctx).billables(project, open_only=open_only)
            return [t.Billable.from_pydantic(billable_public(item)) for item in found]

    @strawberry.field
    async def invoices(self, info: Info) -> list[t.Invoice]:
        async with info.context.work() as ctx:
            service = InvoiceService(ctx)
            return [t.Invoice.from_pydantic(await service.public(i)) for i in await service.list()]

    @strawberry.field
    async def invoice(self, info: Info, id: uuid.UUID) -> t.Invoice:
        async with info.context.work() as ctx:
            service = InvoiceService(ctx)
            return t.Invoice.from_pydantic(await service.public(await service.get(id)))

    @strawberry.field(description="Your households, with your role in each")
    async def households(self, info: Info) -> list[t.Household]:
        async with info.context.work() as ctx:
            found = await HouseholdService(ctx).mine()
            return [t.Household.from_pydantic(h) for h in found]

    @strawberry.field(description="Who is in a household of yours, with their roles")
    async def members(self, info: Info, household_id: uuid.UUID) -> list[t.Member]:
        async with info.context.work() as ctx:
            found = await HouseholdService(ctx).members(household_id)
            return [t.Member.from_pydantic(m) for m in found]
