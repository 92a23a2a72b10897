"""kill -9 in the middle of a burst of writes, a statement import and an invoice:
after a restart nothing that was answered 2xx is lost, the import is all there or not
at all, no invoice is half written, invoice numbers have no gap, and undo works."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, func, select

from eval.imports import ofx_statement
from store.database import create_engine, session_factory, sqlite_url
from store.models import Invoice, InvoiceLine, Task, Transaction
from tests.agent.service_process import Service
from tests.agent.test_cli import environment
from tests.conftest import BACKENDS, DatabaseFactory

STATEMENT_LINES = 3000
WRITES = 60
UNLIMITED = "100000/minute"  # the burst is the test's, not an abuser's


async def billed_project(client: httpx.AsyncClient, auth: dict, name: str) -> None:
    made = await client.post("/v1/projects", headers=auth, json={"name": name, "hourly_rate": "95"})
    assert made.status_code == 201, made.text
    items = [
        {"description": "Labour", "quantity": "3"},
        {"description": "Boards", "unit_price": "410.20"},
    ]
    for item in items:
        billed = await client.post(f"/v1/projects/{name}/billables", headers=auth, json=item)
        assert billed.status_code == 201, billed.text


@pytest.mark.parametrize("backend", BACKENDS)
async def test_kill_9_mid_burst_loses_nothing_answered_and_half_writes_nothing(
    backend: str, databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new("postgresql") if backend == "postgresql" else None
    env = environment(tmp_path, url)
    env.update(LIFEOS_TOKEN_LIMIT=UNLIMITED, LIFEOS_ADDRESS_LIMIT=UNLIMITED)
    service = Service(env, tmp_path / "serve.log")
    await service.start()
    await service.answering()
    auth = await service.token()
    stored: list[str] = []
    async with httpx.AsyncClient(base_url=service.url, timeout=120) as client:
        await billed_project(client, auth, "Deck")
        await billed_project(client, auth, "Fence")
        first = await client.post("/v1/invoices", headers=auth, json={"project": "Deck"})
        assert first.status_code == 201 and first.json()["number"] == 1

        async def write(n: int) -> None:
            answer = await client.post("/v1/tasks", headers=auth, json={"title": f"task {n}"})
            if answer.status_code == 201:
                stored.append(f"task {n}")

        statement = {"file": ("big.ofx", ofx_statement(STATEMENT_LINES))}
        fence = {"project": "Fence"}
        burst = [
            asyncio.create_task(client.post("/v1/imports", headers=auth, files=statement)),
            asyncio.create_task(client.post("/v1/invoices", headers=auth, json=fence)),
            *(asyncio.create_task(write(n)) for n in range(WRITES)),
        ]
        for _ in range(3000):  # pull the plug once the burst is under way
            if len(stored) >= 5:
                break
            await asyncio.sleep(0.01)
        await service.kill()
        imported, invoiced, *_ = await asyncio.gather(*burst, return_exceptions=True)
    assert len(stored) < WRITES, "the burst ended before the kill: nothing was tested"

    await service.start()
    await service.answering()
    engine = create_engine(url or sqlite_url(tmp_path / "lifeos.db"))
    try:
        async with session_factory(engine)() as db:
            titles = set((await db.exec(select(Task.title))).all())
            rows = (await db.exec(select(func.count()).select_from(Transaction))).one()
            invoices = (await db.exec(select(Invoice).order_by(col(Invoice.number)))).all()
            lines = (await db.exec(select(InvoiceLine))).all()
    finally:
        await engine.dispose()

    assert set(stored) <= titles  # every write answered 201 survived
    assert rows in (0, STATEMENT_LINES)  # the import is all there or not at all
    if isinstance(imported, httpx.Response) and imported.status_code == 200:
        assert rows == STATEMENT_LINES
    assert [i.number for i in invoices] == list(range(1, len(invoices) + 1))  # no gap
    if isinstance(invoiced, httpx.Response) and invoiced.status_code == 201:
        assert len(invoices) == 2
    for invoice in invoices:  # no half invoice: lines all there, totals agree
        mine = [line.amount for line in lines if line.invoice_id == invoice.id]
        assert len(mine) == 2 and sum(mine) == invoice.subtotal
        assert invoice.total == invoice.subtotal + invoice.tax
    assert {line.invoice_id for line in lines} <= {i.id for i in invoices}

    async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
        after = await client.post("/v1/tasks", headers=auth, json={"title": "after the crash"})
        assert after.status_code == 201
        undone = await client.post("/v1/undo", headers=auth)
        assert undone.status_code == 200, undone.text
        search = {"text": "after the crash"}
        left = (await client.get("/v1/tasks", headers=auth, params=search)).json()
        assert [t["title"] for t in left] == []
    await service.kill()
