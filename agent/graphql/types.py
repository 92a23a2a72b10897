"""GraphQL types and inputs, derived from the REST API's pydantic models: one
definition of each shape, so the two APIs cannot drift apart."""

from __future__ import annotations

from typing import Any, TypeVar

import strawberry
from pydantic import BaseModel
from strawberry.experimental import pydantic as derived
from strawberry.scalars import JSON

from agent.api.transactions import Refiled as RefiledModel
from agent.graphql.context import Info
from skills.calendar.schemas import (
    Conflict as ConflictModel,
)
from skills.calendar.schemas import (
    EventCreate,
    EventInstance,
    EventPublic,
    EventUpdate,
    FreeSlot,
    SlotRequest,
)
from skills.finance.schemas import (
    BillableCreate,
    BillablePublic,
    CostLine,
    InvoiceCreate,
    InvoiceLinePublic,
    InvoicePublic,
    JobCosting,
    ProjectCreate,
    ProjectPublic,
    ProjectUpdate,
    SummaryRow,
    TransactionCreate,
    TransactionPublic,
    TransactionQuery,
    TransactionUpdate,
)
from skills.finance.schemas import Summary as SummaryModel
from skills.households import (
    HouseholdPublic,
    InvitationCreate,
    InvitationPublic,
    MemberPublic,
)
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


@derived.type(
    model=RefiledModel, all_fields=True, description="Filed anew, with its merchant's past"
)
class Refiled:
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


@derived.type(model=CostLine, all_fields=True)
class CostTotal:
    pass


@derived.type(model=JobCosting, all_fields=True, description="A project's money")
class Costing:
    pass


@derived.type(model=BillablePublic, all_fields=True, description="Hours or materials to bill")
class Billable:
    pass


@derived.type(model=HouseholdPublic, all_fields=True)
class Household:
    pass


@derived.type(model=MemberPublic, all_fields=True)
class Member:
    pass


@derived.type(model=InvitationPublic, all_fields=True, description="Its code is shown only here")
class Invitation:
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


C = TypeVar("C")


def _partial(cls: C) -> C:
    """A partial change has no defaults in the schema: graphql-core would fill in the
    null default of every field left out (of a variable, too), clearing them all."""
    for field in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        field.default_value = strawberry.UNSET
    return cls


@_partial
@derived.input(model=EventUpdate, all_fields=True, description="Only the fields given change")
class EventPatch:
    pass


@_partial
@derived.input(model=TransactionUpdate, all_fields=True, description="Only the fields given change")
class TransactionPatch:
    pass


@derived.input(model=ProjectCreate, all_fields=True)
class ProjectInput:
    pass


@_partial
@derived.input(model=ProjectUpdate, all_fields=True, description="Only the fields given change")
class ProjectPatch:
    pass


@derived.input(model=BillableCreate, all_fields=True)
class BillableInput:
    pass


@derived.input(model=InvoiceCreate, all_fields=True)
class InvoiceInput:
    pass


@derived.input(model=InvitationCreate, all_fields=True)
class InvitationInput:
    pass


M = TypeVar("M", bound=BaseModel)


def patch(info: Info, argument: str, given: Any, model: type[M]) -> M:
    """A partial change (EventPatch, TransactionPatch) as its REST model, holding only
    the fields the client gave: the input object fills every field left out with
    null, which would clear it (an event's household, for one)."""
    sent = info.selected_fields[0].arguments.get(argument) or {}
    convert = info.schema.config.name_converter
    names = {
        convert.get_graphql_name(f): f.python_name for f in given.__strawberry_definition__.fields
    }
    return model.model_validate({names[key]: getattr(given, names[key]) for key in sent})


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
