"""Async engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from store import inline_sqlite
from store.types import dumps_json
from store.write_queue import WriteQueue, queue_writers

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
# An execution option: this connection's transactions only read. On SQLite they begin
# DEFERRED and run beside the writer; every other transaction takes the write lock first
# (a request cannot be trusted to only read: a first GET of money starts the categories).
READ_ONLY = "lifeos_read_only"
# How long a SQLite writer queues for the write lock before giving up (milliseconds):
# as long as a request waits for a pooled connection, so the pool's own limit comes first.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections kept open per process. A pool smaller than the requests in flight closes
# each connection it lent beyond its size when it comes back and opens another for the
# next request (a PostgreSQL backend started, a SQLite thread started and its pragmas
# run), under exactly the load where that costs most. PostgreSQL's default limit of 100
# connections leaves room for a few processes of this size and the tools beside them.
POOL_SIZE = 20
POOL_OVERFLOW = 10
# Plain scheme names people paste from elsewhere, mapped to the async driver we ship.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


class DatabaseError(Exception):
    """The database cannot be used; the message is one line meant for an operator."""


# What a lost or refused database connection raises, through SQLAlchemy or around it:
# asyncpg's own connection errors come wrapped as DBAPIError subclasses, a refused or
# reset TCP connection as ConnectionError, a connect that hangs as TimeoutError. Not
# any OSError: a full disk writing a PDF is not the database being away.
_OUTAGE_TYPES = (ConnectionError, TimeoutError)


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` means the database could not be reached or dropped the
    connection (the request may succeed once it is back), not a bad statement."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (OperationalError, InterfaceError, *_OUTAGE_TYPES)):
            return True
        if (
            type(current).__module__.startswith("asyncpg")
            and "Connection" in type(current).__name__
        ):
            return True  # ConnectionDoesNotExistError, InterfaceError: connection is closed
        current = current.__cause__ or current.__context__
    return False


def parse_database_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"malformed database URL {url!r}") from exc
    if parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise DatabaseError(
            f"unsupported database URL scheme {parsed.drivername!r}; "
            f"use one of {', '.join(s + '://' for s in SUPPORTED_DRIVERS)}"
        )
    if parsed.drivername.startswith("sqlite") and not parsed.database:
        raise DatabaseError("a SQLite URL needs a file path, like sqlite+aiosqlite:///path/to.db")
    return parsed


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Build an engine for a supported URL; SQLite files get their folder created.

    Statement parameters are users' words and amounts: errors and logs leave them out."""
    parsed = parse_database_url(url)
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("json_serializer", dumps_json)  # takes pre-encoded values as they are
    if parsed.database != ":memory:":  # an in-memory SQLite is one shared connection
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database != ":memory:":
            path = Path(parsed.database).expanduser().absolute()
            path.parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("async_creator", inline_sqlite.connector(str(path)))
        engine = create_async_engine(parsed, **kwargs)
        writers = queue_writers(engine.sync_engine, SQLITE_BUSY_TIMEOUT_MS / 1000)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", lambda conn: _sqlite_begin(conn, writers))
        return engine
    return create_async_engine(parsed, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless asked; WAL lets readers run beside a writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL still never corrupts the database and survives an application
    # crash; only a power cut can lose the last commits. It saves an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Short: SQLite's own wait for another process's lock would hold up the event loop
    # (statements run on it); a writer's BEGIN waits by awaiting instead (_sqlite_begin).
    cursor.execute(f"PRAGMA busy_timeout={inline_sqlite.LOOP_BUSY_TIMEOUT_MS}")
    cursor.close()
    # The driver's own transaction handling starts a deferred transaction only at the
    # first INSERT/UPDATE, so a unit of work reads outside it (two invoices read the same
    # last number) or, inside a SAVEPOINT, reads a snapshot that another writer then
    # makes stale: its first write fails at once with "database is locked", whatever the
    # busy timeout. SQLAlchemy emits BEGIN itself instead (_sqlite_begin).
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection, writers: WriteQueue) -> None:
    # A unit of work that may write takes the write lock before its first read: writers
    # queue (in this process in arrival order, for up to the busy timeout) instead of
    # failing, and what a writer read stays true until it commits. Read-only work runs
    # beside them on WAL snapshots.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN DEFERRED")
        return
    writers.take_turn(conn)
    inline_sqlite.begin_immediate(conn.connection, SQLITE_BUSY_TIMEOUT_MS / 1000)


async def check_connection(engine: AsyncEngine) -> None:
    """Run one trivial query; raise DatabaseError with a one-line reason if it fails."""
    try:
        async with engine.connect() as conn:
            await conn.execution_options(**{READ_ONLY: True})
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # drivers raise many unrelated types for "cannot connect"
        target = engine.url.render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseError(f"cannot reach the database at {target}: {reason}") from exc


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def reading(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session that only reads: on SQLite it does not take the write lock (it reads a
    WAL snapshot beside whoever is writing); it commits nothing."""
    async with sessions() as session:
        await session.connection(execution_options={READ_ONLY: True})
        yield session


@asynccontextmanager
async def session_scope(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A unit of work: commit if the block succeeds, roll back everything if it raises."""
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
