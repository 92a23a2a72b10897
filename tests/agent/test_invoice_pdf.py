"""Invoice PDFs: whatever a user writes is shown as written, never read as markup
(reportlab's Paragraph would embed an image named in an <img> tag, or fail on an
unclosed <b>)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from PIL import Image
from pypdf import PdfReader


def pdf_text(content: bytes) -> tuple[str, int]:
    """The PDF's text with whitespace collapsed, and how many images it embeds."""
    reader = PdfReader(io.BytesIO(content))
    text = " ".join("".join(page.extract_text() for page in reader.pages).split())
    return text, sum(len(page.images) for page in reader.pages)


async def test_invoice_text_is_never_markup(
    client: httpx.AsyncClient, auth: dict, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.png"  # any image file the server can read
    Image.new("RGB", (40, 40), "red").save(secret)
    project = await client.post(
        "/v1/projects",
        headers=auth,
        json={"name": "Deck <i>rebuild", "client": "<b>Alvarez & Sons", "hourly_rate": "95"},
    )
    assert project.status_code == 201, project.text
    img = f'<img src="{secret}" width="40" height="40"/>'
    for description in (f"Framing {img}", "Cedar <b>boards", "Nails &amp; screws <font"):
        added = await client.post(
            f"/v1/projects/{project.json()['id']}/billables",
            headers=auth,
            json={"description": description, "quantity": "1"},
        )
        assert added.status_code == 201, added.text
    made = await client.post("/v1/invoices", headers=auth, json={"project": "Deck <i>rebuild"})
    assert made.status_code == 201, made.text
    pdf = await client.get(f"/v1/invoices/{made.json()['id']}/pdf", headers=auth)
    text, images = pdf_text(pdf.content)
    assert images == 0
    for shown in (
        "Bill to: <b>Alvarez & Sons",
        "Project: Deck <i>rebuild",
        "Framing <img src=",
        'width="40" height="40"/>',
        "Cedar <b>boards",
        "Nails &amp; screws <font",
    ):
        assert shown in text, (shown, text)
