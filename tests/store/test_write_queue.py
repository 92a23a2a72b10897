"""SQLite writers of one process take turns in the order they came, and a turn is never
lost: many requests writing at once all succeed, none waits on SQLite's busy polling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from store import database
from store.database import create_engine, reading, session_factory, session_scope


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.sqlite_url(tmp_path / "turns.db"))
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        await conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
        await conn.execute(text("CREATE TABLE arrivals (who INTEGER)"))
    yield engine
    await engine.dispose()


async def _sql(db: AsyncSession, statement: str, params: dict[str, Any] | None = None) -> Any:
    conn = await db.connection()
    return await conn.execute(text(statement), params or {})


async def _add_one(engine: AsyncEngine) -> None:
    """Read, think, write: loses updates unless writers truly take turns."""
    async with session_scope(session_factory(engine)) as db:
        n = (await _sql(db, "SELECT n FROM counter WHERE id = 1")).scalar_one()
        await asyncio.sleep(0)  # another request runs meanwhile
        await _sql(db, "UPDATE counter SET n = :n WHERE id = 1", {"n": n + 1})


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT n FROM counter"))).scalar_one()


async def test_many_writers_at_once_all_succeed_and_none_is_lost(sqlite: AsyncEngine) -> None:
    await asyncio.gather(*(_add_one(sqlite) for _ in range(60)))
    assert await _count(sqlite) == 60


async def test_writers_go_in_the_order_they_came(sqlite: AsyncEngine) -> None:
    first_in = asyncio.Event()
    let_go = asyncio.Event()

    async def holder() -> None:
        async with session_scope(session_factory(sqlite)) as db:
            await _sql(db, "INSERT INTO arrivals VALUES (0)")
            first_in.set()
            await let_go.wait()

    async def writer(who: int) -> None:
        async with session_scope(session_factory(sqlite)) as db:
            await _sql(db, "INSERT INTO arrivals VALUES (:who)", {"who": who})

    held = asyncio.create_task(holder())
    await first_in.wait()
    waiting = []
    for who in range(1, 6):
        waiting.append(asyncio.create_task(writer(who)))
        await asyncio.sleep(0.01)  # each is queued before the next arrives
    assert not any(task.done() for task in waiting)  # all wait for the holder
    let_go.set()
    await asyncio.gather(held, *waiting)
    async with sqlite.connect() as conn:
        order = (await conn.execute(text("SELECT who FROM arrivals ORDER BY rowid"))).scalars()
        assert list(order) == [0, 1, 2, 3, 4, 5]


async def test_a_reader_does_not_wait_for_the_writer(sqlite: AsyncEngine) -> None:
    first_in = asyncio.Event()
    let_go = asyncio.Event()

    async def holder() -> None:
        async with session_scope(session_factory(sqlite)) as db:
            await _sql(db, "UPDATE counter SET n = 5")
            first_in.set()
            await let_go.wait()

    held = asyncio.create_task(holder())
    await first_in.wait()
    async with reading(session_factory(sqlite)) as db:
        seen = (await asyncio.wait_for(_sql(db, "SELECT n FROM counter"), 3)).scalar()
    assert seen == 0  # the last committed value, read beside the writer
    let_go.set()
    await held
    assert await _count(sqlite) == 5


async def test_a_writer_cancelled_mid_way_passes_its_turn_on(sqlite: AsyncEngine) -> None:
    holding = asyncio.Event()

    async def abandoned() -> None:
        async with session_scope(session_factory(sqlite)) as db:
            await _sql(db, "UPDATE counter SET n = 99")
            holding.set()
            await asyncio.Event().wait()  # a client that went away mid-request

    task = asyncio.create_task(abandoned())
    await holding.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(_add_one(sqlite), 3)
    assert await _count(sqlite) == 1  # the abandoned write was rolled back


async def test_a_writer_that_waits_too_long_is_told_the_database_is_busy(
    sqlite: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 200)
    impatient = create_engine(database.sqlite_url(tmp_path / "turns.db"))
    first_in = asyncio.Event()
    let_go = asyncio.Event()

    async def holder() -> None:
        async with session_scope(session_factory(impatient)) as db:
            await _sql(db, "UPDATE counter SET n = 1")
            first_in.set()
            await let_go.wait()

    held = asyncio.create_task(holder())
    await first_in.wait()
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            await _add_one(impatient)
    finally:
        let_go.set()
        await held
        await impatient.dispose()
    assert await _count(sqlite) == 1  # the holder's write stands; the refused one left nothing


async def test_a_writer_waits_for_another_process_without_holding_up_the_loop(
    sqlite: AsyncEngine, tmp_path: Path
) -> None:
    other = create_engine(database.sqlite_url(tmp_path / "turns.db"))  # as another process
    first_in = asyncio.Event()
    let_go = asyncio.Event()

    async def holder() -> None:
        async with session_scope(session_factory(other)) as db:
            await _sql(db, "UPDATE counter SET n = 10")
            first_in.set()
            await let_go.wait()

    held = asyncio.create_task(holder())
    await first_in.wait()
    waiting = asyncio.create_task(_add_one(sqlite))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # it waits for the other's write lock...
    async with reading(session_factory(sqlite)) as db:  # ...while others are served
        seen = await asyncio.wait_for(_sql(db, "SELECT n FROM counter"), 2)
        assert seen.scalar() == 0
    let_go.set()
    await asyncio.wait_for(asyncio.gather(held, waiting), 5)
    await other.dispose()
    assert await _count(sqlite) == 11
