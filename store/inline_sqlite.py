"""SQLite statements run on the event loop's own thread instead of a thread per connection.

aiosqlite gives each connection a worker thread and hands it every call (cursor, execute,
fetch, close: four hand-overs per statement), each one a queue, a wake-up and a trip
through the interpreter lock back to the loop. A statement on our small indexed tables
takes tens of microseconds of SQLite's time; the hand-overs cost more than that, and when
the loop is busy each waits for the lock to be handed back (up to the 5 ms switch
interval): with 50 clients that was most of a request's time. Nothing runs in parallel
either way (the lock lets one thread run Python at a time), so here each call runs where
it is awaited.

What could block the loop is SQLite waiting for a lock another process holds: in WAL mode
only a writer's ``BEGIN IMMEDIATE`` waits (readers and commits do not), so the busy
timeout of these connections is short and ``store.database`` retries a busy BEGIN by
awaiting, never by sleeping on the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.util import await_

# How long SQLite itself may wait for a lock held by another process before answering
# "busy" (milliseconds): the loop stands still for that long at most.
LOOP_BUSY_TIMEOUT_MS = 20


class _AtOnce:
    """Stands where aiosqlite's queue to its worker thread is: runs what is put in at
    once, and settles its future (SQLAlchemy puts some calls there directly)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as the thread does
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the calling thread, when awaited."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _AtOnce()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return partial(fn, *args, **kwargs)()

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._connect().__await__()  # no worker thread to start

    def stop(self) -> None:  # type: ignore[override]
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def connector(path: str) -> Callable[[], Any]:
    """An ``async_creator`` for SQLAlchemy: a connection to the SQLite file at ``path``."""

    async def connect() -> InlineConnection:
        def open_file() -> sqlite3.Connection:
            # The pool may hand a connection to a loop on another thread (a command
            # that runs its own loop); it is only ever used by one at a time.
            return sqlite3.connect(
                path, timeout=LOOP_BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )

        return await InlineConnection(open_file)

    return connect


def begin_immediate(dbapi_connection: Any, timeout_s: float) -> None:
    """``BEGIN IMMEDIATE`` on ``dbapi_connection``, waiting for another process's write
    lock by awaiting between tries (called inside SQLAlchemy's greenlet) until
    ``timeout_s``; then SQLite's own "database is locked" is raised."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pause = 0.002
    while True:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or loop.time() + pause > deadline:
                raise
        finally:
            cursor.close()
        await_(asyncio.sleep(pause))
        pause = min(pause * 2, 0.025)
