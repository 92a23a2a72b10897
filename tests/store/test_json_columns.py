"""A large JSON value (an import's undo record) is encoded off the event loop and
stored exactly as if the column had encoded it, on every backend."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from store.database import session_factory
from store.models import AuditEntry, User
from store.types import EncodedJSON, dumps_json, encode_json


def undo_record(rows: int) -> dict:
    """The shape of an import's audit meta: facts, then one change per row."""
    changes = [
        {
            "table": "transactions",
            "id": str(uuid.UUID(int=n)),
            "before": None,
            "after": {"description": f"Shop “{n}”", "amount": f"-{n}.50", "meta": {"n": [n, None]}},
        }
        for n in range(rows)
    ]
    return {"account": "Chase", "imported": rows, "changes": changes, "undone": False}


async def test_the_encoded_text_is_the_value() -> None:
    value = undo_record(50) | {"empty": {}, "list": [], "nested": {"a": [{"b": 1.5}]}}
    encoded = await encode_json(value)
    assert isinstance(encoded, EncodedJSON)
    assert encoded == value  # still usable as the dict it was
    assert json.loads(dumps_json(encoded)) == value
    assert dumps_json({"plain": [1, "two"]}) == json.dumps({"plain": [1, "two"]})


async def test_other_requests_run_while_a_large_value_is_encoded() -> None:
    """One json.dumps call holds the GIL (and the event loop) from start to end: 20,000
    rows took a quarter of a second with not one other callback run."""
    value = undo_record(20_000)
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    started = time.perf_counter()
    await encode_json(value)
    ended = time.perf_counter()
    ticker.cancel()
    await asyncio.gather(ticker, return_exceptions=True)
    times = [started, *(t for t in ticks if started < t < ended), ended]
    longest = max(later - earlier for earlier, later in itertools.pairwise(times))
    assert longest < (ended - started) / 2


async def test_a_pre_encoded_value_is_stored_and_read_back(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    value = undo_record(300)
    async with sessions() as session:
        user = User(email=f"json-{uuid.uuid4().hex[:8]}@example.com")
        session.add(user)
        await session.flush()
        entry = AuditEntry(
            user_id=user.id,
            action="finance.import",
            resource_type="account",
            meta=await encode_json(value),
        )
        session.add(entry)
        await session.commit()
        entry_id, user_id = entry.id, user.id
    async with sessions() as session:  # a new session: read from the database, not memory
        stored = (await session.exec(select(AuditEntry).where(AuditEntry.id == entry_id))).one()
        assert stored.meta == value
        await session.delete(stored)
        await session.delete(await session.get(User, user_id))
        await session.commit()
