"""An invoice as a PDF (reportlab): who, what, how much, and when it is due."""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from skills.finance.money import spoken
from store.models import Invoice, InvoiceLine


def render_invoice(
    invoice: Invoice, lines: list[InvoiceLine], *, seller: str, project: str | None
) -> bytes:
    styles = getSampleStyleSheet()

    def money(amount: Decimal) -> str:
        return spoken(amount, invoice.currency)

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        title=f"Invoice {invoice.number}",
        author=seller,
        leftMargin=0.8 * inch,
        rightMargin=0.8 * inch,
    )
    # A Paragraph reads its text as markup: a user's "<img src=...>" would embed any
    # image file the server can read, an unclosed "<b>" fail the whole invoice. Every
    # string a user wrote is escaped and so shown exactly as written.
    story = [
        Paragraph(f"Invoice {invoice.number:05d}", styles["Title"]),
        Paragraph(f"From: {escape(seller)}", styles["Normal"]),
        Paragraph(f"Bill to: {escape(invoice.client or '—')}", styles["Normal"]),
        Paragraph(f"Project: {escape(project or '—')}", styles["Normal"]),
        Paragraph(
            f"Issued: {invoice.issued_on.isoformat()}    Due: {invoice.due_on.isoformat()}",
            styles["Normal"],
        ),
        Spacer(1, 0.3 * inch),
    ]
    rows = [["Description", "Quantity", "Unit price", "Amount"]]
    rows += [
        [
            Paragraph(escape(line.description), styles["Normal"]),
            _quantity(line.quantity),
            money(line.unit_price),
            money(line.amount),
        ]
        for line in lines
    ]
    rate = (invoice.tax_rate * 100).normalize()
    rows += [
        ["", "", "Subtotal", money(invoice.subtotal)],
        ["", "", f"Tax ({rate:f}%)", money(invoice.tax)],
        ["", "", "Total", money(invoice.total)],
    ]
    table = Table(rows, colWidths=[3.4 * inch, 0.9 * inch, 1.2 * inch, 1.3 * inch])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEABOVE", (2, -3), (-1, -3), 0.5, colors.grey),
                ("FONTNAME", (2, -1), (-1, -1), "Helvetica-Bold"),
            ]
        )
    )
    story.append(table)
    document.build(story)
    return buffer.getvalue()


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"
