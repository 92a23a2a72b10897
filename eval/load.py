"""A household's mixed traffic at once: many clients talking, writing and reading over
the real HTTP API, each recording what the service said it stored, then a check of
the database against that record, row for row."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import string
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from store.database import session_factory
from store.models import Event, Invoice, Task, TaskStatus, Transaction

PROJECTS = ["kitchen", "garage", "attic", "fence", "porch", "roof", "cellar", "patio"]
PROJECTS += ["shed", "gutters", "driveway", "bathroom", "stairs", "chimney", "pool", "barn"]
LISTS = ["errands", "shopping", "chores", "garden"]


@dataclass
class Ledger:
    """What the service told one user's clients it stored."""

    tasks: int = 0
    done: int = 0
    transactions: int = 0
    events: int = 0
    invoices: list[int] = field(default_factory=list)


@dataclass
class Tally:
    ledgers: dict[uuid.UUID, Ledger]
    latency_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    odd_replies: list[str] = field(default_factory=list)  # 200, but not the expected words

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latency_ms.values())


@dataclass
class Client:
    http: httpx.AsyncClient
    user: uuid.UUID
    number: int
    tally: Tally
    counter: itertools.count = field(default_factory=itertools.count)

    @property
    def ledger(self) -> Ledger:
        return self.tally.ledgers[self.user]

    def code(self) -> str:
        """A name of letters only, unique in the run, so fuzzy matching finds only it."""
        n, letters = self.number * 100_000 + next(self.counter), ""
        while True:
            n, rest = divmod(n, 26)
            letters += string.ascii_lowercase[rest]
            if not n:
                return letters

    async def call(self, kind: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.tally.errors.append(f"{kind}: {type(exc).__name__} {exc}")
            return None
        self.tally.latency_ms[kind].append((time.perf_counter() - started) * 1000)
        if not response.is_success:
            self.tally.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
            return None
        return response

    async def say(self, kind: str, text: str, expect: str) -> bool:
        answer = await self.call(kind, "POST", "/v1/converse", json={"text": text})
        if answer is None:
            return False
        reply = answer.json()["reply"]
        if not reply.startswith(expect):
            self.tally.odd_replies.append(f"{text!r} -> {reply!r}")
            return False
        return True


async def converse_tasks(c: Client) -> None:
    title, where = f"parcel {c.code()}", LISTS[c.number % len(LISTS)]
    if await c.say("converse", f"add {title} to my {where} list", f"Added {title} to"):
        c.ledger.tasks += 1
        if await c.say("converse", f"mark {title} as done", f"Marked {title} as done"):
            c.ledger.done += 1


async def converse_expense(c: Client) -> None:
    said = f"I spent ${c.number % 40 + 1}.25 at Corner Store"
    if await c.say("converse", said, "Logged $"):
        c.ledger.transactions += 1


async def rest_tasks(c: Client) -> None:
    made = await c.call("rest_write", "POST", "/v1/tasks", json={"title": f"errand {c.code()}"})
    if made is not None:
        c.ledger.tasks += 1
        task = made.json()["id"]
        if await c.call("rest_write", "POST", f"/v1/tasks/{task}/complete") is not None:
            c.ledger.done += 1


async def rest_money(c: Client) -> None:
    body = {"amount": f"{c.number % 90 + 1}.40", "merchant": "Hardware Barn"}
    if await c.call("rest_write", "POST", "/v1/transactions", json=body) is not None:
        c.ledger.transactions += 1


async def reads(c: Client) -> None:
    await c.call("rest_read", "GET", "/v1/tasks", params={"status": "open"})
    await c.call("rest_read", "GET", "/v1/transactions")
    await c.call("rest_read", "GET", "/v1/lists")


async def events(c: Client) -> None:
    start = (datetime.now(UTC) + timedelta(days=1 + c.number % 20)).replace(microsecond=0)
    body = {"title": f"visit {c.code()}", "start_at": start.isoformat(), "duration_minutes": 30}
    if await c.call("event", "POST", "/v1/events", json=body) is not None:
        c.ledger.events += 1
    window = {"start": start.isoformat(), "end": (start + timedelta(days=7)).isoformat()}
    await c.call("event", "GET", "/v1/events", params=window)


async def invoices(c: Client) -> None:
    project = PROJECTS[c.number % len(PROJECTS)]
    billable = {"description": "Labour", "quantity": "1.5"}
    if await c.call("invoice", "POST", f"/v1/projects/{project}/billables", json=billable):
        made = await c.call("invoice", "POST", "/v1/invoices", json={"project": project})
        if made is not None:
            c.ledger.invoices.append(made.json()["number"])


Step = Callable[[Client], Awaitable[None]]
MIX: list[Step] = [converse_tasks, converse_expense, rest_tasks, rest_money, reads, events]
MIX += [invoices]


async def _start(c: Client, step: Step) -> None:
    if step is invoices:  # each invoicing client bills its own project
        project = {"name": PROJECTS[c.number % len(PROJECTS)], "hourly_rate": "80"}
        await c.call("invoice", "POST", "/v1/projects", json=project)


async def run_load(
    base_url: str, tokens: dict[uuid.UUID, str], *, clients: int, seconds: float
) -> Tally:
    """``clients`` clients over the users in ``tokens``, each repeating its step (at
    least once) until ``seconds`` have passed. Invoicing clients number at most len(PROJECTS)."""
    users = list(tokens)
    tally = Tally(ledgers={user: Ledger() for user in users})
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients + 5)

    async def one(number: int) -> None:
        user = users[number % len(users)]
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        step = MIX[number % len(MIX)]
        if step is invoices and number // len(users) >= len(PROJECTS):
            step = reads  # names for projects ran out; keep the client busy anyway
        async with httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=60, limits=limits
        ) as http:
            client = Client(http, user, number, tally)
            await _start(client, step)
            while True:  # at least once, so every kind of client is heard from
                await step(client)
                if time.monotonic() >= deadline:
                    break

    await asyncio.gather(*(_household_lists(base_url, tokens[user]) for user in users))
    await asyncio.gather(*(one(n) for n in range(clients)))
    return tally


async def _household_lists(base_url: str, token: str) -> None:
    """The lists people add to exist first: a spoken request never makes a new list
    without asking, and these clients do not answer questions."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as http:
        for name in LISTS:
            (await http.post("/v1/lists", json={"name": name})).raise_for_status()


async def verify(engine: AsyncEngine, tally: Tally) -> list[str]:
    """Every difference between the database and what the clients were told."""
    problems = []
    async with session_factory(engine)() as db:
        for user, ledger in tally.ledgers.items():

            async def count(model: Any, *where: Any, user: uuid.UUID = user) -> int:
                query = select(func.count()).select_from(model).where(model.user_id == user)
                return (await db.exec(query.where(*where))).one()

            stored = {
                "tasks": await count(Task),
                "done": await count(Task, col(Task.status) == TaskStatus.DONE),
                "transactions": await count(Transaction),
                "events": await count(Event),
            }
            for name, value in stored.items():
                if value != getattr(ledger, name):
                    problems.append(f"{user}: {name} told {getattr(ledger, name)}, stored {value}")
            numbers = sorted(
                (await db.exec(select(Invoice.number).where(Invoice.user_id == user))).all()
            )
            if numbers != sorted(ledger.invoices) or numbers != list(range(1, len(numbers) + 1)):
                problems.append(
                    f"{user}: invoices told {sorted(ledger.invoices)}, stored {numbers}"
                )
    return problems


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(values), "p50": statistics.median(ordered), "p95": p95, "max": ordered[-1]}


async def watch_health(base_url: str, stop: asyncio.Event) -> tuple[list[float], int]:
    """How long another user waits for GET /healthz (ms), asked every 50 ms until
    ``stop``, and how many of those asks failed (a failure counts its time too)."""
    samples: list[float] = []
    failures = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                failures += (await http.get("/healthz")).status_code != 200
            except httpx.HTTPError:
                failures += 1
            samples.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
    return samples, failures
