"""Changing: the same service calls as the REST routes, so the same permission
checks, audit rows and undo. An operation is one unit of work: if any part of it
fails, nothing of it is kept."""

from __future__ import annotations

import uuid

import strawberry

from agent.api.lists import share
from agent.graphql import types as t
from agent.graphql.context import Info
from agent.graphql.households import HouseholdMutations
from agent.graphql.money import InvoiceMutations, ProjectMutations
from skills.calendar.schemas import EventUpdate
from skills.calendar.service import CalendarService, public
from skills.finance.schemas import Recategorize, TransactionUpdate
from skills.finance.service import FinanceService
from skills.history import undo_last
from skills.tasks.schemas import ListCreate
from skills.tasks.service import TaskService


@strawberry.type
class Mutation(ProjectMutations, InvoiceMutations, HouseholdMutations):
    @strawberry.mutation(description="Add a task (to a list by its spoken name, if given)")
    async def create_task(self, info: Info, input: t.TaskInput) -> t.Task:
        async with info.context.work() as ctx:
            service = TaskService(ctx)
            [task] = await service.public([await service.create(input.to_pydantic())])
            return t.Task.from_pydantic(task)

    @strawberry.mutation(description="Complete a task (a repeating one rolls forward)")
    async def complete_task(self, info: Info, id: uuid.UUID) -> t.Task:
        async with info.context.work() as ctx:
            service = TaskService(ctx)
            [task] = await service.public([(await service.complete(id)).task])
            return t.Task.from_pydantic(task)

    @strawberry.mutation
    async def reopen_task(self, info: Info, id: uuid.UUID) -> t.Task:
        async with info.context.work() as ctx:
            service = TaskService(ctx)
            [task] = await service.public([await service.reopen(id)])
            return t.Task.from_pydantic(task)

    @strawberry.mutation(description="Delete a task; returns its id (undo brings it back)")
    async def delete_task(self, info: Info, id: uuid.UUID) -> uuid.UUID:
        async with info.context.work() as ctx:
            return (await TaskService(ctx).delete(id)).id

    @strawberry.mutation
    async def create_list(self, info: Info, name: str) -> t.TaskList:
        async with info.context.work() as ctx:
            service = TaskService(ctx)
            made = await service.create_list(ListCreate(name=name).name)
            return t.TaskList.from_pydantic(await service.list_public(made))

    @strawberry.mutation(description="Delete a list and its items; returns its id")
    async def delete_list(self, info: Info, id: uuid.UUID) -> uuid.UUID:
        async with info.context.work() as ctx:
            return (await TaskService(ctx).delete_list(id)).id

    @strawberry.mutation(description="Share a list with a household; null: keep it to yourself")
    async def share_list(
        self, info: Info, id: uuid.UUID, household_id: uuid.UUID | None
    ) -> t.TaskList:
        async with info.context.work() as ctx:
            return t.TaskList.from_pydantic(await share(ctx, id, household_id))

    @strawberry.mutation
    async def create_event(self, info: Info, input: t.EventInput) -> t.Event:
        async with info.context.work() as ctx:
            calendar = CalendarService(ctx)
            return t.Event.from_pydantic(public(await calendar.create_event(input.to_pydantic())))

    @strawberry.mutation(description="Change an event (moving keeps its length)")
    async def update_event(self, info: Info, id: uuid.UUID, input: t.EventPatch) -> t.Event:
        changes = t.patch(info, "input", input, EventUpdate)
        async with info.context.work() as ctx:
            return t.Event.from_pydantic(
                public(await CalendarService(ctx).update_event(id, changes))
            )

    @strawberry.mutation(description="Delete an event; returns its id (undo brings it back)")
    async def delete_event(self, info: Info, id: uuid.UUID) -> uuid.UUID:
        async with info.context.work() as ctx:
            return (await CalendarService(ctx).delete_event(id)).id

    @strawberry.mutation(description="Record an expense or income (category chosen when not given)")
    async def log_transaction(self, info: Info, input: t.TransactionInput) -> t.Transaction:
        async with info.context.work() as ctx:
            finance = FinanceService(ctx)
            [made] = await finance.public([await finance.log(input.to_pydantic())])
            return t.Transaction.from_pydantic(made)

    @strawberry.mutation(description="Change a transaction; a new category is learned")
    async def update_transaction(
        self, info: Info, id: uuid.UUID, input: t.TransactionPatch
    ) -> t.Transaction:
        changes = t.patch(info, "input", input, TransactionUpdate)
        async with info.context.work() as ctx:
            finance = FinanceService(ctx)
            [changed] = await finance.public([await finance.update(id, changes)])
            return t.Transaction.from_pydantic(changed)

    @strawberry.mutation(description="File under a category and learn the merchant")
    async def recategorize_transaction(
        self, info: Info, id: uuid.UUID, category: str, apply_to_past: bool = False
    ) -> t.Refiled:
        asked = Recategorize(category=category, apply_to_past=apply_to_past)
        async with info.context.work() as ctx:
            finance = FinanceService(ctx)
            found, count = await finance.recategorize(
                id, asked.category, apply_to_past=asked.apply_to_past
            )
            [changed] = await finance.public([found])
            return t.Refiled(transaction=t.Transaction.from_pydantic(changed), refiled=count)

    @strawberry.mutation(description="Delete a transaction; returns its id (undo brings it back)")
    async def delete_transaction(self, info: Info, id: uuid.UUID) -> uuid.UUID:
        async with info.context.work() as ctx:
            return (await FinanceService(ctx).delete(id)).id

    @strawberry.mutation(description="Take back your last change, whatever channel made it")
    async def undo(self, info: Info) -> t.Undone:
        async with info.context.work() as ctx:
            undone = await undo_last(ctx)
            return t.Undone(undid=undone.action, facts=undone.facts)
