"""GraphQL types and inputs, derived from the REST API's pydantic models: one
definition of each shape, so the two APIs cannot drift apart."""

from __future__ import annotations

import strawberry
from strawberry.experimental import pydantic as derived
from strawberry.scalars import JSON

from agent.graphql.context import Info
from skills.calendar.schemas import (
    Conflict as ConflictModel,
)
from skills.calendar.schemas import (
    EventCreate,
    EventInstance,
    EventPublic,
    FreeSlot,
    SlotRequest,
)
from skills.finance.schemas import (
    InvoiceLinePublic,
    InvoicePublic,
    ProjectPublic,
    SummaryRow,
    TransactionCreate,
    TransactionPublic,
    TransactionQuery,
)
from skills.finance.schemas import Summary as SummaryModel
from skills.households import HouseholdPublic
from skills.tasks.schemas import ListPublic, TaskCreate, TaskPublic, TaskQuery


@derived.type(model=TaskPublic, all_fields=True)
class Task:
    pass


@derived.type(model=ListPublic, all_fields=True)
class TaskList:
    @strawberry.field(description="Its open items, read for all the lists asked for at once")
    async def items(self, info: Info) -> list[Task]:
        found = await info.context.loaders.open_items.load(self.id)
        return [Task.from_pydantic(item) for item in found]


@derived.type(model=EventPublic, all_fields=True)
class Event:
    pass


@derived.type(model=EventInstance, all_fields=True, description="One occurrence of an event")
class Occurrence:
    pass


@derived.type(model=ConflictModel, all_fields=True)
class Conflict:
    pass


@derived.type(model=FreeSlot, all_fields=True)
class FreeTime:
    pass


@derived.type(model=TransactionPublic, all_fields=True)
class Transaction:
    pass


@derived.type(model=SummaryRow, all_fields=True)
class SummaryLine:
    pass


@derived.type(model=SummaryModel, all_fields=True)
class Summary:
    pass


@derived.type(model=ProjectPublic, all_fields=True)
class Project:
    pass


@derived.type(model=InvoiceLinePublic, all_fields=True)
class InvoiceLine:
    pass


@derived.type(model=InvoicePublic, all_fields=True)
class Invoice:
    pass


@derived.type(model=HouseholdPublic, all_fields=True)
class Household:
    pass


@derived.input(model=TaskCreate, all_fields=True)
class TaskInput:
    pass


@derived.input(model=TaskQuery, all_fields=True)
class TaskFilter:
    pass


@derived.input(model=EventCreate, all_fields=True)
class EventInput:
    pass


@derived.input(model=SlotRequest, all_fields=True)
class FreeTimeRequest:
    pass


@derived.input(model=TransactionCreate, all_fields=True)
class TransactionInput:
    pass


@derived.input(model=TransactionQuery, all_fields=True)
class TransactionFilter:
    pass


@strawberry.type(description="A change someone made, as it happened")
class Change:
    kind: str = strawberry.field(description="tasks, lists, events, transactions, …")
    id: strawberry.ID | None
    action: str = strawberry.field(description="created, updated, deleted, undone, …")
    household_id: strawberry.ID | None
    mine: bool = strawberry.field(description="False: another household member made it")


@strawberry.type(description="What undo took back: the action, and what it had reported")
class Undone:
    undid: str
    facts: JSON
