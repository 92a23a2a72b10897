"""Statement uploads at their largest: fast, refused early when too big, never
stalling other requests, and never reading an amount other than the one written."""

from __future__ import annotations

import asyncio
import time

import httpx

from eval.imports import csv_statement, ofx_statement
from skills.finance.imports import MAX_LINES


async def upload(client: httpx.AsyncClient, auth: dict, name: str, data: bytes) -> httpx.Response:
    return await client.post("/v1/imports", headers=auth, files={"file": (name, data)})


async def worst_health_wait(client: httpx.AsyncClient, done: asyncio.Event) -> float:
    """Seconds, at worst, between when a /healthz asked every 20 ms was due and when
    it was answered: what another user waits while the upload runs."""
    worst, due = 0.0, time.perf_counter()
    while not done.is_set():
        assert (await client.get("/healthz")).status_code == 200
        answered = time.perf_counter()
        worst = max(worst, answered - due)
        await asyncio.sleep(0.02)
        due = answered + 0.02
    return worst


async def test_a_large_statement_is_quick_and_stalls_nobody(
    client: httpx.AsyncClient, auth: dict
) -> None:
    data = ofx_statement(10_000)  # ofxparse took 9 s of the event loop for this alone
    done = asyncio.Event()
    probe = asyncio.create_task(worst_health_wait(client, done))
    started = time.perf_counter()
    try:
        response = await upload(client, auth, "big.ofx", data)
    finally:
        seconds = time.perf_counter() - started
        done.set()
    waited = await probe
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 10_000
    assert seconds < 30 and waited < 2, (seconds, waited)  # before: 190 s, and 9 s
    again = await upload(client, auth, "big.ofx", data)
    assert (again.json()["imported"], again.json()["duplicates"]) == (0, 10_000)


async def test_too_many_lines_are_refused_before_any_work(
    client: httpx.AsyncClient, auth: dict
) -> None:
    unclosed = ofx_statement(1).replace(b"</BANKTRANLIST>", b"<STMTTRN>" * 900_000)
    for name, data, message in (
        ("huge.ofx", ofx_statement(MAX_LINES + 1), f"at most {MAX_LINES} lines"),  # 2 MB: 59 s
        ("huge.csv", csv_statement(MAX_LINES + 1), f"at most {MAX_LINES} lines"),
        ("unclosed.ofx", unclosed, "a transaction never ends"),  # 8 MB
    ):
        started = time.perf_counter()
        response = await upload(client, auth, name, data)
        assert response.status_code == 422 and message in response.text
        assert time.perf_counter() - started < 10
    assert (await client.get("/v1/transactions", headers=auth)).json() == []


async def test_amounts_are_never_misread(client: httpx.AsyncClient, auth: dict) -> None:
    for amount, message in (
        ("1E+30", "line 3: '1E+30' is in exponent notation"),  # was stored as 130.00
        ("1e999999", "line 3: '1e999999' is in exponent notation"),  # was 1,999,999.00
        ("-123456789012345.00", "line 3: '-123456789012345.00' is too large an amount"),
        ("12abc34", "line 3: '12abc34' is not an amount"),
    ):
        csv = f"Date,Description,Amount\n2026-03-01,Coffee,-4.50\n2026-03-02,Rent,{amount}\n"
        response = await upload(client, auth, "march.csv", csv.encode())
        assert response.status_code == 422 and message in response.json()["detail"], (
            amount,
            response.text,
        )
    ofx = ofx_statement(2).replace(b"<TRNAMT>-1.00", b"<TRNAMT>-1E+30")
    response = await upload(client, auth, "march.ofx", ofx)
    assert response.status_code == 422
    assert "transaction 1 of the OFX statement: '-1E+30' is in exponent" in response.text
    assert (await client.get("/v1/transactions", headers=auth)).json() == []
