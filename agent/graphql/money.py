"""Changing projects and invoices: the same service calls as /v1/projects and
/v1/invoices, so the same rules (a shared project's money is for the roles that keep
the household's books), audit rows and undo (undoing an invoice voids it)."""

from __future__ import annotations

import uuid
from datetime import date

import strawberry

from agent.api.projects import billable_public, project_public
from agent.graphql import types as t
from agent.graphql.context import Info
from skills.finance.invoices import InvoiceService
from skills.finance.schemas import ProjectUpdate
from skills.projects import ProjectService


@strawberry.type
class ProjectMutations:
    @strawberry.mutation(description="Start a project (with householdId: shared with it)")
    async def create_project(self, info: Info, input: t.ProjectInput) -> t.Project:
        async with info.context.work() as ctx:
            made = await ProjectService(ctx).create(input.to_pydantic())
            return t.Project.from_pydantic(project_public(made))

    @strawberry.mutation(
        description="Rename a project (id or name), or share it with a household "
        "(householdId: null keeps it to yourself); only the fields given change"
    )
    async def update_project(self, info: Info, project: str, input: t.ProjectPatch) -> t.Project:
        changes = t.patch(info, "input", input, ProjectUpdate)
        async with info.context.work() as ctx:
            changed = await ProjectService(ctx).update(project, changes)
            return t.Project.from_pydantic(project_public(changed))

    @strawberry.mutation(
        description="Delete a project (id or name); refused (409) while money is recorded "
        "on it. Returns its id (undo brings it back)"
    )
    async def delete_project(self, info: Info, project: str) -> uuid.UUID:
        async with info.context.work() as ctx:
            return (await ProjectService(ctx).delete(project)).id

    @strawberry.mutation(description="Log hours or materials to bill on a project (id or name)")
    async def add_billable(self, info: Info, project: str, input: t.BillableInput) -> t.Billable:
        async with info.context.work() as ctx:
            item = await InvoiceService(ctx).add_billable(project, input.to_pydantic())
            return t.Billable.from_pydantic(billable_public(item))


@strawberry.type
class InvoiceMutations:
    @strawberry.mutation(description="Bill a project's open billable items on the next number")
    async def create_invoice(self, info: Info, input: t.InvoiceInput) -> t.Invoice:
        async with info.context.work() as ctx:
            service = InvoiceService(ctx)
            made = await service.generate_invoice(input.to_pydantic())
            return t.Invoice.from_pydantic(await service.public(made))

    @strawberry.mutation(description="Mark sent")
    async def send_invoice(self, info: Info, id: uuid.UUID) -> t.Invoice:
        async with info.context.work() as ctx:
            service = InvoiceService(ctx)
            return t.Invoice.from_pydantic(await service.public(await service.mark_sent(id)))

    @strawberry.mutation(description="Mark paid; the payment is recorded as income on the project")
    async def mark_invoice_paid(
        self, info: Info, id: uuid.UUID, paid_on: date | None = None
    ) -> t.Invoice:
        async with info.context.work() as ctx:
            service = InvoiceService(ctx)
            paid = await service.mark_paid(id, paid_on)
            return t.Invoice.from_pydantic(await service.public(paid))

    @strawberry.mutation(description="Void (invoices are never deleted: no number is reused)")
    async def void_invoice(self, info: Info, id: uuid.UUID) -> t.Invoice:
        async with info.context.work() as ctx:
            service = InvoiceService(ctx)
            return t.Invoice.from_pydantic(await service.public(await service.void(id)))
