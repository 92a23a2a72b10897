"""Invoices: billable work and materials per project, numbered invoices with tax,
a PDF in file storage, and their life as sent, paid or void.

Numbers come from a counter taken inside the same transaction as the invoice, so a
failure leaves no gap, and invoices are voided rather than deleted, so no number is
ever issued twice. An invoice for a project shared with a household is in its books:
numbered in the household's one sequence, whoever issues it, and seen by the roles
that keep them; any other is its maker's, numbered in theirs.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from skills import access
from skills.access import Capability
from skills.context import NotFound, SkillContext, SkillError
from skills.finance.money import amount_in, rounded
from skills.finance.schemas import (
    BillableCreate,
    InvoiceCreate,
    InvoiceLinePublic,
    InvoicePublic,
    TransactionCreate,
)
from skills.finance.service import FinanceService
from skills.history import ChangeSet, record_action, snapshot
from skills.projects import ProjectService
from store.models import (
    BillableItem,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Project,
    Sequence,
    TransactionKind,
)


class InvoiceService:
    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self.projects = ProjectService(ctx)

    # --- billable items -------------------------------------------------------

    async def add_billable(
        self, project_ref: str | uuid.UUID, data: BillableCreate
    ) -> BillableItem:
        project = await self.projects.money_of(project_ref, Capability.MONEY_WRITE)
        price = data.unit_price if data.unit_price is not None else project.hourly_rate
        if price is None:
            raise SkillError(f"give a unit price; “{project.name}” has no hourly rate")
        item = BillableItem(
            user_id=self.ctx.user_id,
            project_id=project.id,
            description=data.description,
            quantity=_quantity(data.quantity),
            unit_price=amount_in(price, project.currency),
            occurred_on=data.occurred_on or self.ctx.local_now().date(),
        )
        self.session.add(item)
        await self.session.flush()
        changes = ChangeSet()
        changes.created(item)
        record_action(
            self.ctx,
            "finance.billable",
            "billable",
            item.id,
            changes,
            project=project.name,
            description=item.description,
        )
        return item

    async def billables(
        self, project_ref: str | uuid.UUID, *, open_only: bool = False
    ) -> list[BillableItem]:
        project = await self.projects.money_of(project_ref, Capability.MONEY_READ)
        # Whoever logged the work: a household's job is billed as one.
        statement = select(BillableItem).where(BillableItem.project_id == project.id)
        if open_only:
            statement = statement.where(col(BillableItem.invoice_id).is_(None))
        return list(await self.session.exec(statement.order_by(col(BillableItem.occurred_on))))

    # --- invoices ---------------------------------------------------------------

    async def generate_invoice(self, data: InvoiceCreate) -> Invoice:
        """Bill every open billable item of the project on a new, numbered invoice."""
        project = await self.projects.money_of(data.project, Capability.MONEY_WRITE)
        items = await self.billables(project.id, open_only=True)
        if not items:
            raise SkillError(f"there is nothing left to bill on “{project.name}”")
        if self.ctx.files is None:
            raise SkillError("this service has no file storage for invoices")
        code = project.currency
        changes = ChangeSet()
        issued = self.ctx.local_now().date()
        lines = [(item, rounded(item.quantity * item.unit_price, code)) for item in items]
        subtotal = sum((amount for _item, amount in lines), Decimal(0))
        tax = rounded(subtotal * data.tax_rate, code)
        invoice = Invoice(
            user_id=self.ctx.user_id,
            household_id=project.household_id,
            project_id=project.id,
            number=await self._next_number(project.household_id),
            client=project.client,
            currency=code,
            issued_on=issued,
            due_on=issued + timedelta(days=data.due_in_days),
            subtotal=subtotal,
            tax_rate=data.tax_rate,
            tax=tax,
            total=subtotal + tax,
        )
        self.session.add(invoice)
        await self.session.flush()
        changes.created(invoice)
        rows = []
        for position, (item, amount) in enumerate(lines):
            row = InvoiceLine(
                user_id=self.ctx.user_id,
                invoice_id=invoice.id,
                position=position,
                description=item.description,
                quantity=item.quantity,
                unit_price=item.unit_price,
                amount=amount,
            )
            self.session.add(row)
            rows.append(row)
            before = snapshot(item)
            item.invoice_id = invoice.id
            self.session.add(item)
            changes.updated(item, before)
        await self.session.flush()
        # The PDF is written last: if anything before fails, no file and no number are used.
        books = f"households/{invoice.household_id}" if invoice.household_id else self.ctx.user_id
        invoice.file_key = f"{books}/invoices/{invoice.number:05d}.pdf"
        from skills.finance.pdf import render_invoice  # reportlab: loaded when first used

        pdf = render_invoice(invoice, rows, seller=self.ctx.display_name, project=project.name)
        await self.ctx.files.put(invoice.file_key, pdf)
        self.session.add(invoice)
        await self.session.flush()
        record_action(
            self.ctx,
            "finance.invoice",
            "invoice",
            invoice.id,
            changes,
            number=invoice.number,
            total=str(invoice.total),
            currency=code,
            client=invoice.client,
        )
        return invoice

    async def get(
        self, invoice_id: uuid.UUID, capability: Capability = Capability.MONEY_READ
    ) -> Invoice:
        """One's own invoice, or one in the books of a household whose role lets one
        read (or, asked for, change) them; any other is NotFound."""
        try:
            invoice = await self.session.get(Invoice, uuid.UUID(str(invoice_id)))
        except ValueError:
            invoice = None
        if invoice is None:
            raise NotFound("no such invoice")
        await access.require(
            self.ctx, invoice, capability, noun="invoice", what="invoices", doing="change"
        )
        return invoice

    async def list(self) -> list[Invoice]:
        """One's own invoices, then those of the households whose books one keeps,
        each set newest number first."""
        shown = await access.visible(self.ctx, Invoice, Capability.MONEY_READ)
        rows = await self.session.exec(
            select(Invoice).where(shown).order_by(col(Invoice.number).desc())
        )
        return sorted(rows, key=lambda i: (i.household_id is not None, str(i.household_id)))

    async def pdf(self, invoice_id: uuid.UUID) -> tuple[Invoice, bytes]:
        invoice = await self.get(invoice_id)
        if self.ctx.files is None or invoice.file_key is None:
            raise NotFound("this invoice has no PDF")
        return invoice, await self.ctx.files.get(invoice.file_key)

    async def mark_sent(self, invoice_id: uuid.UUID) -> Invoice:
        return await self._move(invoice_id, InvoiceStatus.SENT, {InvoiceStatus.DRAFT})

    async def void(self, invoice_id: uuid.UUID) -> Invoice:
        return await self._move(
            invoice_id, InvoiceStatus.VOID, {InvoiceStatus.DRAFT, InvoiceStatus.SENT}
        )

    async def mark_paid(self, invoice_id: uuid.UUID, paid_on: date | None = None) -> Invoice:
        """Paid: the payment is recorded as income on the project, so job costing sees it."""
        invoice = await self.get(invoice_id, Capability.MONEY_WRITE)
        changes = ChangeSet()
        await self._transition(
            invoice, InvoiceStatus.PAID, {InvoiceStatus.DRAFT, InvoiceStatus.SENT}, changes
        )
        project = (
            await self.session.get(Project, invoice.project_id) if invoice.project_id else None
        )
        await FinanceService(self.ctx).log(
            TransactionCreate(
                kind=TransactionKind.INCOME,
                amount=invoice.total,
                currency=invoice.currency,
                occurred_on=paid_on,
                merchant=invoice.client,
                category="Income",
                description=f"Payment of invoice {invoice.number:05d}",
                project=project.name if project else None,
                household_id=invoice.household_id,
            ),
            changes,
            record=False,
        )
        record_action(
            self.ctx,
            "finance.invoice_paid",
            "invoice",
            invoice.id,
            changes,
            number=invoice.number,
            total=str(invoice.total),
        )
        return invoice

    async def public(self, invoice: Invoice) -> InvoicePublic:
        lines = await self.session.exec(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(col(InvoiceLine.position))
        )
        project = (
            await self.session.get(Project, invoice.project_id) if invoice.project_id else None
        )
        return InvoicePublic(
            **invoice.model_dump(
                include={
                    "id",
                    "household_id",
                    "number",
                    "status",
                    "client",
                    "currency",
                    "issued_on",
                    "due_on",
                    "subtotal",
                    "tax_rate",
                    "tax",
                    "total",
                    "sent_at",
                    "paid_at",
                }
            ),
            project=project.name if project else None,
            lines=[
                InvoiceLinePublic(
                    **line.model_dump(include={"description", "quantity", "unit_price", "amount"})
                )
                for line in lines
            ],
        )

    async def _move(
        self, invoice_id: uuid.UUID, status: InvoiceStatus, allowed: set[InvoiceStatus]
    ) -> Invoice:
        invoice = await self.get(invoice_id, Capability.MONEY_WRITE)
        changes = ChangeSet()
        await self._transition(invoice, status, allowed, changes)
        record_action(
            self.ctx,
            f"finance.invoice_{status.value}",
            "invoice",
            invoice.id,
            changes,
            number=invoice.number,
        )
        return invoice

    async def _transition(
        self,
        invoice: Invoice,
        status: InvoiceStatus,
        allowed: set[InvoiceStatus],
        changes: ChangeSet,
    ) -> None:
        if invoice.status not in allowed:
            raise SkillError(
                f"invoice {invoice.number} is {invoice.status.value}; it cannot "
                f"be marked {status.value}"
            )
        before = snapshot(invoice)
        invoice.status = status
        now = self.ctx.now()
        if status == InvoiceStatus.SENT:
            invoice.sent_at = now
        if status == InvoiceStatus.PAID:
            invoice.paid_at = now
        invoice.updated_at = now
        self.session.add(invoice)
        await self.session.flush()
        changes.updated(invoice, before)

    async def _next_number(self, household_id: uuid.UUID | None) -> int:
        """Take the next invoice number of the user's books or of a household's,
        locking the counter row until commit.

        PostgreSQL locks the row (FOR UPDATE); SQLite ignores that clause, but there a
        unit of work holds the database's write lock from its first read (BEGIN
        IMMEDIATE, store.database), so simultaneous invoices queue for their numbers.
        Two members starting a household's counter at once: one insert fails on the
        counter's unique name in those books, and that one locks the other's."""
        books = (
            and_(Sequence.user_id == self.ctx.user_id, col(Sequence.household_id).is_(None))
            if household_id is None
            else Sequence.household_id == household_id
        )
        for _attempt in range(3):
            counter = (
                await self.session.exec(
                    select(Sequence).where(books, Sequence.name == "invoice").with_for_update()
                )
            ).first()
            if counter is not None:
                counter.last_value += 1
                self.session.add(counter)
                await self.session.flush()
                return counter.last_value
            try:
                async with self.session.begin_nested():
                    self.session.add(
                        Sequence(
                            user_id=self.ctx.user_id, household_id=household_id, name="invoice"
                        )
                    )
            except IntegrityError:
                continue  # another request created it first: lock theirs
        raise SkillError("could not take an invoice number; try again")


def _quantity(value: Decimal) -> Decimal:
    """Hours or units: more than zero, to the hundredth (1.25 hours)."""
    if value <= 0:
        raise SkillError("the quantity must be more than zero")
    if value != value.quantize(Decimal("0.01")):
        raise SkillError(f"a quantity has at most two decimal places, not {value}")
    return value
