"""Amounts, quantities and budgets over HTTP that a column cannot hold (1e30,
1e999999, NaN) are a 422 naming the problem: never a 500, never a silent change."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/v1/transactions", {"amount": 1e30}, "out of range"),
        ("/v1/transactions", {"amount": "1E+30"}, "exponent notation"),
        ("/v1/transactions", {"amount": "1e999999"}, "exponent notation"),
        ("/v1/transactions", {"amount": "NaN"}, "not an amount"),
        ("/v1/transactions", {"amount": 5e13}, "too large"),
        ("/v1/projects", {"name": "Big", "budget": 1e30}, "out of range"),
        ("/v1/projects", {"name": "Big", "hourly_rate": "1e30"}, "exponent notation"),
        ("/v1/projects", {"name": "Big", "budget": 2e12}, "too large"),
        ("/v1/invoices", {"project": "Deck", "tax_rate": "1e-30"}, "exponent notation"),
    ],
)
async def test_amounts_out_of_range_are_refused(
    client: httpx.AsyncClient, auth: dict, path: str, body: dict, message: str
) -> None:
    response = await client.post(path, headers=auth, json=body)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert (await client.get("/v1/transactions", headers=auth)).json() == []
    assert (await client.get("/v1/projects", headers=auth)).json() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"description": "Hours", "quantity": 1e30}, "out of range"),
        ({"description": "Hours", "quantity": "1e30"}, "exponent notation"),
        ({"description": "Hours", "quantity": "2", "unit_price": 1e30}, "out of range"),
        ({"description": "Hours", "quantity": "2", "unit_price": "5e12"}, "exponent notation"),
        ({"description": "Hours", "quantity": "1000000"}, "less than 1000000"),
        ({"description": "Hours", "quantity": "900000", "unit_price": "9000000"}, "come to less"),
    ],
)
async def test_billable_quantities_out_of_range_are_refused(
    client: httpx.AsyncClient, auth: dict, body: dict, message: str
) -> None:
    made = await client.post("/v1/projects", headers=auth, json={"name": "Deck"})
    assert made.status_code == 201
    response = await client.post("/v1/projects/deck/billables", headers=auth, json=body)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert (await client.get("/v1/projects/deck/billables", headers=auth)).json() == []


async def test_a_json_number_beyond_any_float(client: httpx.AsyncClient, auth: dict) -> None:
    response = await client.post(
        "/v1/transactions",
        headers={**auth, "Content-Type": "application/json"},
        content=b'{"amount": 1e999999, "merchant": "x"}',
    )
    assert response.status_code == 422 and "not a number" in response.text
    assert (await client.get("/v1/transactions", headers=auth)).json() == []
