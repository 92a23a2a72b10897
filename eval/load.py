"""A household's mixed traffic at once: many clients talking, writing and reading over
the real HTTP API, each recording what the service said it stored, then a check of
the database against that record, row for row.

Run as a program, it measures the service under load, each part bounded and on
loopback only:

    uv run --frozen python -m eval.load [--part rest|converse|voice|memory ...]
        [--database sqlite|postgresql ...] [--seconds 30] [--think 1] [--out load.json]

rest: 50 clients mixing REST writes and reads (tasks, money, events, invoices) against
`lifeos serve` on a fresh database, then the row counts; converse: the same with 20
clients talking through /v1/converse; voice: sessions at once (web socket, then
phone) until p95 passes 1.5 s (eval.load_voice); memory: one accelerated hour-long
call, its memory sampled turn by turn. Each client pauses about --think seconds
between its steps, as a person in an app does; --think 0 measures the most requests
the service takes (then latency only grows with the number of clients).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import secrets
import string
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from agent.settings import Settings
from eval.served import HOUSEHOLD, Server, database, signed_in
from eval.stats import percentiles
from store import migrate
from store.database import create_engine, session_factory
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
    timeline: list[tuple[float, str, float]] = field(default_factory=list)  # (sent at, kind, ms)
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
        took_ms = (time.perf_counter() - started) * 1000
        self.tally.latency_ms[kind].append(took_ms)
        self.tally.timeline.append((started, kind, took_ms))
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
REST_MIX: list[Step] = [rest_tasks, rest_money, reads, events, invoices]  # writes and reads
CONVERSE_MIX: list[Step] = [converse_tasks, converse_expense]


async def _start(c: Client, step: Step) -> None:
    if step is invoices:  # each invoicing client bills its own project
        project = {"name": PROJECTS[c.number % len(PROJECTS)], "hourly_rate": "80"}
        await c.call("invoice", "POST", "/v1/projects", json=project)


async def run_load(
    base_url: str,
    tokens: dict[uuid.UUID, str],
    *,
    clients: int,
    seconds: float,
    mix: list[Step] = MIX,
    think: float = 0.0,
) -> Tally:
    """``clients`` clients over the users in ``tokens``, each repeating its step (at
    least once) until ``seconds`` have passed. Invoicing clients number at most len(PROJECTS).
    ``think``: seconds each client pauses between steps, on average (0: none, which
    measures how much the service takes at most rather than how it answers its users)."""
    users = list(tokens)
    tally = Tally(ledgers={user: Ledger() for user in users})
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients + 5)

    async def one(number: int) -> None:
        user = users[number % len(users)]
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        step = mix[number % len(mix)]
        if step is invoices and number // len(users) >= len(PROJECTS):
            step = reads  # names for projects ran out; keep the client busy anyway
        pauses = random.Random(number)  # noqa: S311 - a pace, not a secret
        async with httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=60, limits=limits
        ) as http:
            client = Client(http, user, number, tally)
            if think:  # people do not all press at the same instant: arrivals spread out
                await asyncio.sleep(think * pauses.uniform(0, 1))
            await _start(client, step)
            while True:  # at least once, so every kind of client is heard from
                await step(client)
                if time.monotonic() >= deadline:
                    break
                if think:  # between half and one and a half times the mean, as people vary
                    await asyncio.sleep(think * pauses.uniform(0.5, 1.5))

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


PARTS = ["rest", "converse", "voice", "memory"]
GOALS_MS = {"rest": 50.0, "converse": 100.0}  # p95 the service aims for on loopback


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__)
    parser.add_argument("--part", choices=PARTS, action="append", help="default: all")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--seconds", type=float, default=30, help="per traffic run or level")
    parser.add_argument("--rest-clients", type=int, default=50)
    parser.add_argument("--converse-clients", type=int, default=20)
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean seconds a client pauses between steps, as a person using an app does; "
        "0 sends the next request at once and measures the most the service can take",
    )
    parser.add_argument(
        "--warm-up",
        type=float,
        default=5.0,
        help="seconds of the same traffic from other users first, reported apart: a fresh "
        "process's first requests build its caches (routes, SQL, schemas)",
    )
    parser.add_argument("--max-sessions", type=int, default=32, help="voice ramp ceiling")
    parser.add_argument("--call-minutes", type=float, default=60)
    parser.add_argument("--speed", type=float, default=20, help="the long call's speed-up")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    parts = args.part or PARTS
    results = asyncio.run(_run(parts, args))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2, default=str))
    return 0 if _all_correct(results) else 1


async def _run(parts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    traffic = [p for p in parts if p in ("rest", "converse")]
    for backend in (args.database or ["sqlite", "postgresql"]) if traffic else []:
        results[backend] = await _traffic(backend, traffic, args)
    if "voice" in parts:
        from eval.load_voice import voice_capacity  # loads the voice models

        print("\n== voice sessions at once ==", flush=True)
        results["voice"] = await voice_capacity(args.max_sessions, args.seconds)
    if "memory" in parts:
        from eval.load_voice import call_memory

        print(f"\n== one {args.call_minutes:g}-minute call at {args.speed:g}x ==", flush=True)
        results["memory"] = await call_memory(args.call_minutes, args.speed, args.seconds)
        print(json.dumps(results["memory"], indent=2), flush=True)
    return results


async def _traffic(backend: str, parts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Each traffic part against one `lifeos serve` on a fresh ``backend`` database,
    each with a household of its own so its row counts are its own."""
    print(f"\n== {backend} ==", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="lifeos-load-") as data:
        async with database(backend, Path(data)) as url:
            settings = Settings(
                data_dir=Path(data), database_url=url, jwt_secret=secrets.token_urlsafe(48)
            )
            engine = create_engine(url)
            try:
                await migrate.upgrade(engine)
                async with Server(settings) as server:
                    for part in parts:
                        warm: dict[str, Any] = {}
                        if args.warm_up > 0:  # other people, so each run's rows are its own
                            names = [f"{part}-warm-{name}" for name in HOUSEHOLD]
                            tokens = await signed_in(engine, settings, names)
                            warm = await _measure(part, server, engine, tokens, args, "warm-up")
                        names = [f"{part}-{name}" for name in HOUSEHOLD]
                        tokens = await signed_in(engine, settings, names)
                        results[part] = await _measure(part, server, engine, tokens, args)
                        results[part]["warm_up"] = warm
            finally:
                await engine.dispose()
    return results


async def _measure(
    part: str,
    server: Server,
    engine: AsyncEngine,
    tokens: dict,
    args: argparse.Namespace,
    label: str = "",
) -> dict[str, Any]:
    clients = args.rest_clients if part == "rest" else args.converse_clients
    mix = REST_MIX if part == "rest" else CONVERSE_MIX
    seconds = args.warm_up if label == "warm-up" else args.seconds
    started = time.perf_counter()
    tally = await run_load(
        server.url, tokens, clients=clients, seconds=seconds, mix=mix, think=args.think
    )
    took = time.perf_counter() - started
    problems = await verify(engine, tally)
    every = [ms for values in tally.latency_ms.values() for ms in values]
    overall = percentiles(every)
    result = {
        "clients": clients,
        "think_seconds": args.think,
        "seconds": round(took, 1),
        "requests": tally.requests,
        "per_second": round(tally.requests / took, 1),
        **{k: round(v, 1) for k, v in overall.items()},
        "goal_p95_ms": GOALS_MS[part],
        "by_kind": {k: percentiles(v) for k, v in sorted(tally.latency_ms.items())},
        "by_second": _by_second(tally, started),
        "errors": tally.errors[:10],
        "odd_replies": tally.odd_replies[:10],
        "row_differences": problems[:10],
    }
    print(
        f"{label or part:<8} {clients} clients (think {args.think:g} s), {tally.requests} requests "
        f"in {took:.1f} s "
        f"({result['per_second']}/s): p50 {overall['p50']:.1f} ms, p95 {overall['p95']:.1f} ms "
        f"(goal {GOALS_MS[part]:g}); errors {len(tally.errors)}, odd replies "
        f"{len(tally.odd_replies)}, row-count differences {len(problems)}",
        flush=True,
    )
    for line in tally.errors[:5] + tally.odd_replies[:5] + problems[:5]:
        print(f"  ! {line}")
    return result


def _by_second(tally: Tally, started: float) -> list[dict[str, float]]:
    """p50/p95 of the requests sent in each second of the run: a slow start (a fresh
    process warming up) reads differently from slowness all along."""
    seconds: dict[int, list[float]] = defaultdict(list)
    for sent, _kind, ms in tally.timeline:
        seconds[int(sent - started)].append(ms)
    return [
        {"second": s, "n": len(v), **{k: round(x, 1) for k, x in percentiles(v).items()}}
        for s, v in sorted(seconds.items())
    ]


def _all_correct(results: dict[str, Any]) -> bool:
    """Figures are for reading; a wrong answer or a row that does not add up fails."""
    traffic = [r for backend in ("sqlite", "postgresql") for r in results.get(backend, {}).values()]
    traffic += [r["warm_up"] for r in traffic if r.get("warm_up")]
    return not any(r["errors"] or r["odd_replies"] or r["row_differences"] for r in traffic)


if __name__ == "__main__":
    sys.exit(main())
