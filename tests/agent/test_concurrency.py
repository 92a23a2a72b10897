"""Many requests at the same moment, through the real HTTP API, on SQLite and on
PostgreSQL: none fails, and exactly what was answered as done is stored."""

from __future__ import annotations

import asyncio

import httpx

from agent.app import create_app
from agent.loopback import loopback
from agent.services import Services
from eval.load import MIX, run_load, verify, watch_health
from eval.stats import percentiles
from store.database import session_scope
from store.models import UserCreate
from store.repositories.users import create_user


async def _converse(client: httpx.AsyncClient, auth: dict, text: str) -> httpx.Response:
    return await client.post("/v1/converse", headers=auth, json={"text": text})


async def test_simultaneous_conversation_turns_all_succeed(
    client: httpx.AsyncClient, auth: dict
) -> None:
    said = [f"add item {n} to my shopping list" for n in range(8)]
    said += [f"I spent ${n}.25 at Corner Store {n}" for n in range(1, 9)]
    answers = await asyncio.gather(*(_converse(client, auth, text) for text in said))
    assert [r.status_code for r in answers] == [200] * len(said), [r.text for r in answers]
    tasks = (await client.get("/v1/tasks", headers=auth, params={"limit": 100})).json()
    assert sorted(t["title"] for t in tasks) == sorted(f"item {n}" for n in range(8))
    spent = (await client.get("/v1/transactions", headers=auth, params={"limit": 100})).json()
    assert len(spent) == 8


async def test_more_conversations_than_pooled_connections(
    client: httpx.AsyncClient, auth: dict, services: Services
) -> None:
    # The pool holds 5 + 10 overflow connections; a request that holds two of them at
    # once stalls here until the pool gives up.
    pooled = services.engine.pool.size() + services.engine.pool._max_overflow  # type: ignore[attr-defined]
    count = pooled + 5
    (await client.post("/v1/lists", headers=auth, json={"name": "house"})).raise_for_status()
    said = [f"add chore {n} to my house list" for n in range(count)]
    answers = await asyncio.wait_for(
        asyncio.gather(*(_converse(client, auth, text) for text in said)), timeout=25
    )
    assert [r.status_code for r in answers] == [200] * count, [r.text for r in answers]
    tasks = (await client.get("/v1/tasks", headers=auth, params={"limit": 100})).json()
    assert len(tasks) == count


async def test_a_slow_understanding_holds_nobody_else_up(
    client: httpx.AsyncClient, auth: dict, intruder: dict, services: Services
) -> None:
    # One person's words wait on something slow (Claude for the long tail, a model
    # loading); meanwhile another person's turn and a plain write must go through.
    cascade = services.assistant.parser
    parse, waiting, release = cascade.parse, asyncio.Event(), asyncio.Event()

    async def slow_for_one(text: str, *args: object, **kwargs: object) -> object:
        if "slowly" in text:
            waiting.set()
            await release.wait()
        return await parse(text, *args, **kwargs)

    cascade.parse = slow_for_one  # type: ignore[method-assign]
    slow = asyncio.create_task(_converse(client, auth, "add slowly to my shopping list"))
    await asyncio.wait_for(waiting.wait(), timeout=10)
    other = await asyncio.wait_for(
        _converse(client, intruder, "add milk to my shopping list"), timeout=10
    )
    written = await asyncio.wait_for(
        client.post("/v1/tasks", headers=auth, json={"title": "errand"}), timeout=10
    )
    assert (other.status_code, written.status_code) == (200, 201)
    assert not slow.done()
    release.set()
    assert (await slow).status_code == 200
    titles = {t["title"] for t in (await client.get("/v1/tasks", headers=auth)).json()}
    assert titles == {"slowly", "errand"}


async def test_simultaneous_rest_writes_and_reads(client: httpx.AsyncClient, auth: dict) -> None:
    async def write_task(n: int) -> httpx.Response:
        return await client.post("/v1/tasks", headers=auth, json={"title": f"errand {n}"})

    async def write_expense(n: int) -> httpx.Response:
        body = {"amount": f"{n}.50", "merchant": f"Shop {n}", "occurred_on": "2026-03-02"}
        return await client.post("/v1/transactions", headers=auth, json=body)

    async def read() -> httpx.Response:
        return await client.get("/v1/tasks", headers=auth)

    calls = [write_task(n) for n in range(12)] + [write_expense(n) for n in range(12)]
    calls += [read() for _ in range(12)]
    answers = await asyncio.gather(*calls)
    assert sorted({r.status_code for r in answers}) == [200, 201], [r.text for r in answers]
    assert len((await read()).json()) == 12
    spent = (await client.get("/v1/transactions", headers=auth, params={"limit": 100})).json()
    assert len(spent) == 12


async def test_simultaneous_invoices_take_consecutive_numbers(
    client: httpx.AsyncClient, auth: dict
) -> None:
    jobs = ["kitchen", "garage", "deck", "attic", "fence", "porch", "roof", "cellar"]
    jobs += ["patio", "shed", "gutters", "driveway"]
    count = len(jobs)
    for job in jobs:
        made = await client.post(
            "/v1/projects", headers=auth, json={"name": job, "hourly_rate": "50"}
        )
        assert made.status_code == 201, made.text
        billed = await client.post(
            f"/v1/projects/{job}/billables",
            headers=auth,
            json={"description": "Labour", "quantity": "2"},
        )
        assert billed.status_code == 201, billed.text
    answers = await asyncio.gather(
        *(client.post("/v1/invoices", headers=auth, json={"project": job}) for job in jobs)
    )
    assert [r.status_code for r in answers] == [201] * count, [r.text for r in answers]
    assert sorted(r.json()["number"] for r in answers) == list(range(1, count + 1))
    listed = (await client.get("/v1/invoices", headers=auth)).json()
    assert sorted(i["number"] for i in listed) == list(range(1, count + 1))


async def test_household_traffic_at_once(services: Services) -> None:
    """The abuse probe's mixed traffic (eval.abuse), CI-sized: a real server on
    loopback, every kind of client twice over, for a few seconds."""
    tokens = {}
    async with session_scope(services.sessions) as db:
        for name in ("ann", "bob", "cleo", "dev"):
            user = await create_user(db, UserCreate(email=f"{name}@example.com"))
            tokens[user.id] = services.tokens.issue(user.id)
    async with loopback(create_app(services=services)) as url:
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_health(url, stop))
        tally = await run_load(url, tokens, clients=2 * len(MIX) + 2, seconds=3)
        stop.set()
        health, health_failures = await watcher
    assert tally.errors == []
    assert tally.odd_replies == []
    assert await verify(services.engine, tally) == []
    told = list(tally.ledgers.values())
    assert sum(ledger.done for ledger in told) > 0
    assert sum(len(ledger.invoices) for ledger in told) > 0
    assert health_failures == 0 and percentiles(health)["n"] > 0
