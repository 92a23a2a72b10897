"""Money through HTTP: transactions, categories that learn, statements, projects,
invoices as PDFs, bank links, and nobody else's money."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from agent.services import Services
from skills.finance.bank import plaid_client
from tests.plaid_server import (
    CLIENT_ID,
    GOOD_PUBLIC_TOKEN,
    SECRET,
    PlaidFeed,
    plaid_server,
    transaction,
)

OFX = (Path(__file__).parents[1] / "skills" / "data" / "checking.ofx").read_bytes()


async def test_transactions_and_learning(client: httpx.AsyncClient, auth: dict) -> None:
    made = await client.post(
        "/v1/transactions",
        headers=auth,
        json={"amount": "6.25", "merchant": "Blue Bottle", "occurred_on": "2026-03-02"},
    )
    assert made.status_code == 201, made.text
    first = made.json()
    assert (first["amount"], first["category"], first["category_confidence"]) == (
        "6.25",
        "Other",
        0.3,
    )

    refiled = await client.post(
        f"/v1/transactions/{first['id']}/recategorize", headers=auth, json={"category": "Coffee"}
    )
    assert refiled.json()["transaction"]["category"] == "Coffee"
    second = (
        await client.post(
            "/v1/transactions", headers=auth, json={"amount": 5.5, "merchant": "BLUE BOTTLE #12"}
        )
    ).json()
    assert (second["category"], second["category_confidence"]) == ("Coffee", 0.95)

    again = await client.post(f"/v1/transactions/{second['id']}/categorize", headers=auth)
    assert again.json() == {"category": "Coffee", "confidence": 0.95, "reason": "learned"}

    summary = await client.get(
        "/v1/transactions/summary",
        headers=auth,
        params={"start": "2026-01-01", "end": "2027-01-01"},
    )
    assert summary.json()["rows"][0] == {"key": "Coffee", "total": "11.75", "count": 2}
    names = [c["name"] for c in (await client.get("/v1/categories", headers=auth)).json()]
    assert {"Groceries", "Coffee", "Materials", "Income"} <= set(names)

    assert (
        await client.delete(f"/v1/transactions/{second['id']}", headers=auth)
    ).status_code == 204
    assert (await client.post("/v1/undo", headers=auth)).json()["undid"] == "finance.delete"
    assert (await client.get(f"/v1/transactions/{second['id']}", headers=auth)).status_code == 200


async def test_bad_money_input(client: httpx.AsyncClient, auth: dict) -> None:
    for body, message in [
        ({"amount": "4.505"}, "at most 2 decimal places"),
        ({"amount": "100.5", "currency": "JPY"}, "at most 0 decimal places"),
        ({"amount": "5", "currency": "ABC"}, "not a currency"),
        ({"amount": "-5"}, "more than zero"),
        ({"amount": "lots"}, "amount"),
    ]:
        response = await client.post("/v1/transactions", headers=auth, json=body)
        assert response.status_code == 422, body
        assert message in response.text, (body, response.text)
    assert (await client.get("/v1/transactions", headers=auth)).json() == []


async def test_statement_upload(client: httpx.AsyncClient, auth: dict) -> None:
    files = {"file": ("march.ofx", OFX, "application/x-ofx")}
    first = await client.post("/v1/imports", headers=auth, files=files)
    assert first.json() == {
        "account": "Account …6789",
        "currency": "USD",
        "imported": 3,
        "duplicates": 0,
        "skipped": 0,
    }
    second = await client.post("/v1/imports", headers=auth, files=files)
    assert (second.json()["imported"], second.json()["duplicates"]) == (0, 3)
    broken = await client.post(
        "/v1/imports", headers=auth, files={"file": ("cut.ofx", OFX[:300], "application/x-ofx")}
    )
    assert broken.status_code == 422 and "cut short" in broken.text
    empty = await client.post(
        "/v1/imports", headers=auth, files={"file": ("e.csv", b"", "text/csv")}
    )
    assert empty.status_code == 422
    mapped = await client.post(
        "/v1/imports",
        headers=auth,
        files={"file": ("eu.csv", b"Datum;Tekst;Bedrag\n02.03.2026;Bakker;-3,10\n", "text/csv")},
        data={
            "account": "Spaar",
            "date_column": "Datum",
            "description_column": "Tekst",
            "amount_column": "Bedrag",
            "date_format": "%d.%m.%Y",
        },
    )
    assert mapped.json()["imported"] == 1
    assert len((await client.get("/v1/transactions", headers=auth)).json()) == 4


async def test_project_invoice_pdf_and_costing(client: httpx.AsyncClient, auth: dict) -> None:
    project = await client.post(
        "/v1/projects",
        headers=auth,
        json={
            "name": "Deck rebuild",
            "client": "Ms. Alvarez",
            "hourly_rate": "95",
            "budget": "6000",
        },
    )
    assert project.status_code == 201
    await client.post(
        "/v1/projects/deck rebuild/billables",
        headers=auth,
        json={"description": "Framing labour", "quantity": "12.5"},
    )
    await client.post(
        "/v1/projects/deck rebuild/billables",
        headers=auth,
        json={"description": "Cedar boards", "unit_price": "1840.00"},
    )
    await client.post(
        "/v1/transactions",
        headers=auth,
        json={
            "amount": "1320.40",
            "merchant": "Lumber Liquidators",
            "category": "Materials",
            "project": "deck rebuild",
        },
    )
    made = await client.post(
        "/v1/invoices", headers=auth, json={"project": "Deck Rebuild", "tax_rate": "0.07"}
    )
    assert made.status_code == 201, made.text
    invoice = made.json()
    assert (invoice["number"], invoice["subtotal"], invoice["tax"], invoice["total"]) == (
        1,
        "3027.50",
        "211.93",
        "3239.43",
    )
    pdf = await client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=auth)
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Ms. Alvarez" in text and "$3,239.43" in text and "$1,187.50" in text

    await client.post(f"/v1/invoices/{invoice['id']}/send", headers=auth)
    paid = await client.post(f"/v1/invoices/{invoice['id']}/paid", headers=auth)
    assert paid.json()["status"] == "paid"
    costing = (await client.get("/v1/projects/deck rebuild/costing", headers=auth)).json()
    assert (costing["revenue"], costing["costs"], costing["margin"]) == (
        "3239.43",
        "1320.40",
        "1919.03",
    )
    assert costing["budget_remaining"] == "4679.60"
    nothing = await client.post("/v1/invoices", headers=auth, json={"project": "deck rebuild"})
    assert nothing.status_code == 422 and "nothing left to bill" in nothing.text


@pytest.fixture
async def plaid(services: Services) -> AsyncIterator[PlaidFeed]:
    feed = PlaidFeed(pages=[([transaction("p1", 12.0, "NETFLIX", "2026-03-01")], [], [])])
    async with plaid_server(feed) as url:
        services.bank = plaid_client(url, CLIENT_ID, SECRET)
        yield feed


async def test_bank_link_over_http(client: httpx.AsyncClient, auth: dict, plaid: PlaidFeed) -> None:
    assert (await client.post("/v1/bank/link-token", headers=auth)).json() == {
        "link_token": "link-sandbox-123"
    }
    bad = await client.post("/v1/bank/links", headers=auth, json={"public_token": "nope"})
    assert bad.status_code == 422 and "INVALID_PUBLIC_TOKEN" in bad.text
    made = await client.post(
        "/v1/bank/links",
        headers=auth,
        json={"public_token": GOOD_PUBLIC_TOKEN, "institution": "First Plaid"},
    )
    assert made.status_code == 201
    assert made.json()["sync"] == {"added": 1, "modified": 0, "removed": 0}
    [netflix] = (await client.get("/v1/transactions", headers=auth)).json()
    assert (netflix["merchant"], netflix["category"], netflix["account"]) == (
        "Netflix",
        "Subscriptions",
        "Plaid Checking …0000",
    )
    link_id = made.json()["link"]["id"]
    assert (await client.post(f"/v1/bank/links/{link_id}/sync", headers=auth)).json() == {
        "added": 0,
        "modified": 0,
        "removed": 0,
    }


async def test_bank_without_configuration(client: httpx.AsyncClient, auth: dict) -> None:
    response = await client.post("/v1/bank/link-token", headers=auth)
    assert response.status_code == 503 and "LIFEOS_PLAID_CLIENT_ID" in response.text


async def test_another_user_cannot_reach_my_money(
    client: httpx.AsyncClient, auth: dict, intruder: dict
) -> None:
    spent = (
        await client.post(
            "/v1/transactions",
            headers=auth,
            json={"amount": "99", "merchant": "Jeweller", "project": "Secret job"},
        )
    ).json()
    await client.post(
        "/v1/projects/secret job/billables",
        headers=auth,
        json={"description": "Work", "unit_price": "100"},
    )
    invoice = (
        await client.post("/v1/invoices", headers=auth, json={"project": "secret job"})
    ).json()
    tid, iid = spent["id"], invoice["id"]
    for method, url, body in [
        ("GET", f"/v1/transactions/{tid}", None),
        ("PATCH", f"/v1/transactions/{tid}", {"amount": "1"}),
        ("DELETE", f"/v1/transactions/{tid}", None),
        ("POST", f"/v1/transactions/{tid}/categorize", None),
        ("POST", f"/v1/transactions/{tid}/recategorize", {"category": "Coffee"}),
        ("GET", "/v1/projects/secret job", None),
        ("GET", "/v1/projects/secret job/costing", None),
        ("GET", "/v1/projects/secret job/billables", None),
        ("POST", "/v1/projects/secret job/billables", {"description": "x", "unit_price": "1"}),
        ("GET", f"/v1/invoices/{iid}", None),
        ("GET", f"/v1/invoices/{iid}/pdf", None),
        ("POST", f"/v1/invoices/{iid}/send", None),
        ("POST", f"/v1/invoices/{iid}/paid", None),
        ("POST", f"/v1/invoices/{iid}/void", None),
        ("POST", "/v1/invoices", {"project": "secret job"}),
    ]:
        response = await client.request(method, url, headers=intruder, json=body)
        assert response.status_code == 404, (method, url, response.text)
    assert (await client.get("/v1/transactions", headers=intruder)).json() == []
    assert (await client.get("/v1/invoices", headers=intruder)).json() == []
    assert (await client.get("/v1/projects", headers=intruder)).json() == []
    summary = await client.get(
        "/v1/transactions/summary",
        headers=intruder,
        params={"start": "2020-01-01", "end": "2030-01-01"},
    )
    assert summary.json()["rows"] == []
    assert (await client.get(f"/v1/invoices/{iid}", headers=auth)).json()["status"] == "draft"
