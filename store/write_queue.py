"""SQLite writers of one process take turns in arrival order.

SQLite lets one transaction write at a time. A second writer's ``BEGIN IMMEDIATE`` is left
to SQLite's busy handler, which sleeps and retries with waits growing to 100 ms and is
never woken when the lock frees: under load a writer loses the race again and again while
newer ones win (50 REST clients measured p95 400 ms with single requests stalled for
seconds). Here each unit of work that may write first queues on an ``asyncio.Lock`` (FIFO),
and the turn passes to the next in line as soon as the previous one has committed or rolled
back. The busy handler still arbitrates between processes (``lifeos say`` beside ``serve``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.util import await_

# Where a pooled connection notes that it holds its process's write turn.
_HOLDS = "lifeos_write_turn"


class WriteQueue:
    """The write turns of one engine, one lock per event loop (an engine built in one
    ``asyncio.run`` may be used in another, e.g. by the CLI's commands)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def _take(self, lock: asyncio.Lock) -> None:
        async with asyncio.timeout(self.timeout_s):
            await lock.acquire()

    def take_turn(self, conn: Connection) -> None:
        """Wait for this process's write turn; called as the unit of work begins, inside
        SQLAlchemy's greenlet, so it can await. Raises as SQLite does when it waits too long."""
        lock = self._lock()
        try:
            await_(self._take(lock))
        except TimeoutError as exc:
            raise OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            ) from exc
        conn.info[_HOLDS] = lock

    @staticmethod
    def end_turn(connection: Any) -> None:
        """Pass the turn on, if this pooled connection (or its pool record) holds it; a
        read-only unit never took one, nor has the dialect's first probe of a new one."""
        try:
            info = connection.info
        except NotImplementedError:
            return
        lock = info.pop(_HOLDS, None)
        if lock is not None and lock.locked():
            lock.release()


def queue_writers(engine: Engine, timeout_s: float) -> WriteQueue:
    """Make ``engine``'s writers take turns; the caller's ``begin`` listener calls
    ``take_turn`` for units of work that may write."""
    queue = WriteQueue(timeout_s)
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    # The turn passes on after SQLite has ended the transaction, not before (the
    # ``commit``/``rollback`` events fire before it): the next writer's BEGIN then finds
    # the lock free instead of meeting the busy handler. Every end of a transaction goes
    # through these two, including the pool's rollback of a connection given back mid-way.
    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            queue.end_turn(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            queue.end_turn(dbapi_connection)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    # A connection closed or invalidated while holding the turn (its transaction is gone
    # with it) must not keep the others waiting.
    def _dropped(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        queue.end_turn(record)

    for name in ("checkin", "invalidate", "soft_invalidate", "close"):
        event.listen(engine, name, _dropped)
    return queue
