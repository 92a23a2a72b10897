"""Out-of-scope requests change nothing: each one goes through the real
``Assistant.converse`` on a store that already holds a user's lists, events and
spending, and every table is compared before and after.

Only the conversation's own record (the turns said and heard, which every turn keeps
by design) may grow; a new task, a logged expense, a renamed list or a moved event
is a write, and so is an update to a row that was there.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from agent.assistant import Assistant, Turn
from skills.actions import Catalogue
from skills.catalogue import build_catalogue
from skills.context import SkillContext
from store.database import session_scope
from store.models import User, UserCreate
from store.repositories.users import create_user

# The dialogue's record of what was said (and its state between turns) is written on
# every turn by design; everything else is the user's data.
BOOKKEEPING_PREFIXES = ("conversation", "dialogue", "alembic")
ZONE = "America/New_York"
# What the user already has, so that an update or a deletion would show too.
SEED: list[tuple[str, dict[str, Any]]] = [
    ("tasks.create", {"title": "milk", "list": "shopping"}),
    ("tasks.create", {"title": "mac and cheese", "list": "shopping"}),
    ("tasks.create", {"title": "batteries", "list": "hardware store"}),
    ("tasks.create", {"title": "pay rent"}),
    ("tasks.create", {"title": "call mom"}),
    ("calendar.create", {"title": "dentist appointment", "start_at": "2026-03-06T10:00-05:00"}),
    ("calendar.create", {"title": "yoga", "start_at": "2026-03-05T18:00-05:00"}),
    ("finance.expense", {"amount": "4.50", "merchant": "Blue Bottle"}),
    ("finance.expense", {"amount": "42", "merchant": "Home Depot"}),
    ("finance.income", {"amount": "2500", "merchant": "Acme"}),
]


@dataclass
class Writes:
    turns: int = 0
    wrote: list[tuple[str, list[str]]] = field(default_factory=list)  # text, tables changed
    failed: list[tuple[str, str]] = field(default_factory=list)  # text, error


Snapshot = dict[str, tuple[int, str]]


class StoreWatch:
    """Reads the SQLite file the assistant writes, beside it and read-only: a plain
    connection reads every table in well under a millisecond, so each turn can be
    compared with the one before."""

    def __init__(self, engine: AsyncEngine) -> None:
        database = engine.url.database
        if not engine.url.drivername.startswith("sqlite") or not database:
            raise ValueError("the write check reads a SQLite file")
        self.connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        names = self.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        self.tables = sorted(
            name for (name,) in names if not name.startswith((*BOOKKEEPING_PREFIXES, "sqlite_"))
        )

    def snapshot(self) -> Snapshot:
        """Row count and a digest of the rows of every table of the user's data."""
        state: Snapshot = {}
        for name in self.tables:
            rows = self.connection.execute(f'SELECT * FROM "{name}"').fetchall()  # noqa: S608 - names from the schema
            digest = hashlib.sha256(repr(sorted(repr(row) for row in rows)).encode())
            state[name] = (len(rows), digest.hexdigest())
        return state

    def close(self) -> None:
        self.connection.close()


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


async def seeded_user(assistant: Assistant, catalogue: Catalogue | None = None) -> User:
    """A user with a few lists, events and transactions."""
    catalogue = catalogue or build_catalogue()
    async with session_scope(assistant.sessions) as db:
        user = await create_user(
            db, UserCreate(email=f"eval-{time.time_ns()}@example.com", timezone=ZONE)
        )
    async with session_scope(assistant.sessions) as db:
        found = await db.get(User, user.id)
        assert found is not None
        ctx = SkillContext.for_user(db, found, **assistant.context)
        for action, args in SEED:
            await catalogue[action].run(ctx, args)
    return user


async def count_writes(
    assistant: Assistant, engine: AsyncEngine, user: User, texts: list[str], tag: str
) -> Writes:
    """Each text once, in a session of its own, through the assistant."""
    result = Writes()
    watch = StoreWatch(engine)
    try:
        last = watch.snapshot()
        for number, said in enumerate(texts):
            result.turns += 1
            try:
                await assistant.converse(Turn(said, user.id, f"{tag}-{number}"))
            except Exception as error:  # a crash is reported with the utterance, not fatal
                result.failed.append((said, f"{type(error).__name__}: {error}"))
            now = watch.snapshot()
            if tables := changed(last, now):
                result.wrote.append((said, tables))
            last = now
    finally:
        watch.close()
    return result
