"""Invoices as a contractor sends them: numbered without gaps or reuse, right
totals on the PDF, paid invoices counted as revenue."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from skills.context import SkillContext, SkillError
from skills.files import LocalFileStore
from skills.finance.invoices import InvoiceService
from skills.finance.reports import FinanceReports
from skills.finance.schemas import BillableCreate, InvoiceCreate, ProjectCreate
from skills.history import undo_last
from skills.projects import ProjectService
from store.models import InvoiceStatus


class BrokenStore:
    async def put(self, key: str, data: bytes) -> None:
        raise OSError("disk full")

    async def get(self, key: str) -> bytes:
        raise FileNotFoundError(key)


@pytest.fixture
async def billing(ctx: SkillContext, tmp_path: Path) -> InvoiceService:
    ctx.files = LocalFileStore(tmp_path / "files")
    await ProjectService(ctx).create(
        ProjectCreate(
            name="Kitchen remodel",
            client="The Smiths",
            hourly_rate=Decimal("85"),
            budget=Decimal("5000"),
        )
    )
    return InvoiceService(ctx)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_invoice_totals_on_the_pdf(billing: InvoiceService) -> None:
    await billing.add_billable(
        "kitchen remodel",
        BillableCreate(description="Demolition and framing", quantity=Decimal("10")),
    )
    await billing.add_billable(
        "kitchen remodel",
        BillableCreate(description="Tile and grout", unit_price=Decimal("412.37")),
    )
    invoice = await billing.generate_invoice(
        InvoiceCreate(project="Kitchen Remodel", tax_rate=Decimal("0.0825"))
    )
    assert invoice.number == 1
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("1262.37"),
        Decimal("104.15"),
        Decimal("1366.52"),
    )
    assert (invoice.due_on - invoice.issued_on).days == 30

    _, pdf = await billing.pdf(invoice.id)
    text = pdf_text(pdf)
    for expected in (
        "Invoice 00001",
        "The Smiths",
        "Demolition and framing",
        "$850.00",
        "$412.37",
        "Subtotal",
        "$1,262.37",
        "Tax (8.25%)",
        "$104.15",
        "Total",
        "$1,366.52",
    ):
        assert expected in text, expected
    public = await billing.public(invoice)
    assert [line.amount for line in public.lines] == [Decimal("850.00"), Decimal("412.37")]

    with pytest.raises(SkillError, match="nothing left to bill"):
        await billing.generate_invoice(InvoiceCreate(project="kitchen remodel"))


async def test_numbers_never_skip_and_are_never_reused(
    billing: InvoiceService, ctx: SkillContext
) -> None:
    async def bill(description: str) -> int:
        await billing.add_billable("kitchen remodel", BillableCreate(description=description))
        return (await billing.generate_invoice(InvoiceCreate(project="kitchen remodel"))).number

    assert await bill("Week 1") == 1
    await ctx.session.commit()

    # A failure while writing the PDF rolls everything back: the number is not used up.
    good_store, ctx.files = ctx.files, BrokenStore()
    await billing.add_billable("kitchen remodel", BillableCreate(description="Week 2"))
    await ctx.session.commit()
    with pytest.raises(OSError, match="disk full"):
        await billing.generate_invoice(InvoiceCreate(project="kitchen remodel"))
    await ctx.session.rollback()
    ctx.files = good_store
    second = await billing.generate_invoice(InvoiceCreate(project="kitchen remodel"))
    assert second.number == 2

    # Undo voids the invoice (its items can be billed again) but keeps its number.
    await undo_last(ctx)
    assert (await billing.get(second.id)).status == InvoiceStatus.VOID
    third = await billing.generate_invoice(InvoiceCreate(project="kitchen remodel"))
    assert third.number == 3
    assert [line.description for line in (await billing.public(third)).lines] == ["Week 2"]


async def test_paid_invoice_is_revenue(billing: InvoiceService, ctx: SkillContext) -> None:
    await billing.add_billable(
        "kitchen remodel", BillableCreate(description="Labour", quantity=Decimal("20"))
    )
    invoice = await billing.generate_invoice(InvoiceCreate(project="kitchen remodel"))
    await billing.mark_sent(invoice.id)
    costing = await FinanceReports(ctx).calculate_job_costing("kitchen remodel")
    assert (costing.invoiced, costing.outstanding, costing.revenue) == (
        Decimal("1700.00"),
        Decimal("1700.00"),
        Decimal(0),
    )
    await billing.mark_paid(invoice.id)
    costing = await FinanceReports(ctx).calculate_job_costing("kitchen remodel")
    assert (costing.outstanding, costing.revenue) == (Decimal(0), Decimal("1700.00"))
    with pytest.raises(SkillError, match="is paid; it cannot be marked sent"):
        await billing.mark_sent(invoice.id)


async def test_bad_billables(billing: InvoiceService) -> None:
    with pytest.raises(SkillError, match="at most two decimal places"):
        await billing.add_billable(
            "kitchen remodel", BillableCreate(description="x", quantity=Decimal("1.255"))
        )
    with pytest.raises(SkillError, match="more than zero"):
        await billing.add_billable(
            "kitchen remodel", BillableCreate(description="x", quantity=Decimal("0"))
        )
    with pytest.raises(SkillError, match="at most 2 decimal places"):
        await billing.add_billable(
            "kitchen remodel", BillableCreate(description="x", unit_price=Decimal("1.001"))
        )
