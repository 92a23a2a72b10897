"""/v1/invoices: numbered invoices, their PDFs, and their life as sent, paid or void."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Response, status

from agent.api.deps import SkillCtx
from skills.finance.invoices import InvoiceService
from skills.finance.schemas import InvoiceCreate, InvoicePublic

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])


@router.post(
    "",
    response_model=InvoicePublic,
    status_code=status.HTTP_201_CREATED,
    summary="Bill a project's open billable items",
)
async def create_invoice(ctx: SkillCtx, body: InvoiceCreate) -> InvoicePublic:
    service = InvoiceService(ctx)
    return await service.public(await service.generate_invoice(body))


@router.get("", response_model=list[InvoicePublic])
async def list_invoices(ctx: SkillCtx) -> list[InvoicePublic]:
    service = InvoiceService(ctx)
    return [await service.public(invoice) for invoice in await service.list()]


@router.get("/{invoice_id}", response_model=InvoicePublic)
async def read_invoice(ctx: SkillCtx, invoice_id: uuid.UUID) -> InvoicePublic:
    service = InvoiceService(ctx)
    return await service.public(await service.get(invoice_id))


@router.get("/{invoice_id}/pdf", response_class=Response)
async def invoice_pdf(ctx: SkillCtx, invoice_id: uuid.UUID) -> Response:
    invoice, pdf = await InvoiceService(ctx).pdf(invoice_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="invoice-{invoice.number:05d}.pdf"'},
    )


@router.post("/{invoice_id}/send", response_model=InvoicePublic, summary="Mark sent")
async def send(ctx: SkillCtx, invoice_id: uuid.UUID) -> InvoicePublic:
    service = InvoiceService(ctx)
    return await service.public(await service.mark_sent(invoice_id))


@router.post(
    "/{invoice_id}/paid",
    response_model=InvoicePublic,
    summary="Mark paid; the payment is recorded as income on the project",
)
async def paid(ctx: SkillCtx, invoice_id: uuid.UUID, paid_on: date | None = None) -> InvoicePublic:
    service = InvoiceService(ctx)
    return await service.public(await service.mark_paid(invoice_id, paid_on))


@router.post(
    "/{invoice_id}/void",
    response_model=InvoicePublic,
    summary="Void (invoices are never deleted, so numbers are never reused)",
)
async def void(ctx: SkillCtx, invoice_id: uuid.UUID) -> InvoicePublic:
    service = InvoiceService(ctx)
    return await service.public(await service.void(invoice_id))
