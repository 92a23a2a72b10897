"""Consistent copies of a running database, and putting them back.

SQLite: the online backup API, on a connection of its own in a thread; it copies a
single snapshot while the service goes on writing (WAL readers do not block writers).
PostgreSQL: ``pg_dump`` in custom format under a snapshot exported from a repeatable-
read transaction, so the row counts in the manifest and the dump see the same data;
``pg_restore`` into an empty database."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from agent.backup.envelope import ArchiveError
from store.database import create_engine, parse_database_url
from store.models import metadata


@dataclass(frozen=True)
class Snapshot:
    revision: str | None
    counts: dict[str, int]


def table_names() -> list[str]:
    return [table.name for table in metadata.sorted_tables]


def copy_sqlite(source: Path, target: Path) -> Snapshot:
    """Copy a live SQLite database to ``target`` in one step (blocking: run in a thread)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: all at once, under one read transaction
        return _sqlite_snapshot(dst)
    finally:
        dst.close()
        src.close()


def read_sqlite(path: Path) -> Snapshot:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return _sqlite_snapshot(connection)
    finally:
        connection.close()


def _sqlite_snapshot(connection: sqlite3.Connection) -> Snapshot:
    counts = {
        name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
        for name in table_names()
    }
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return Snapshot(revision=row[0] if row else None, counts=counts)


def libpq_env(url: URL) -> dict[str, str]:
    """Connection settings for pg_dump and pg_restore: in the environment, so a
    password never shows in the process list."""
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[name] = str(value)
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ArchiveError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


async def _run(command: list[str], env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        first = (stderr.decode(errors="replace").strip().splitlines() or ["failed"])[0]
        raise ArchiveError(f"{Path(command[0]).name}: {first}")


async def dump_postgres(url: str, target: Path) -> Snapshot:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                snapshot_id = (await conn.execute(text("SELECT pg_export_snapshot()"))).scalar()
                snapshot = await _counts(conn)
                # The exported snapshot lives as long as this transaction: dump under it.
                command = [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot_id}"]
                await _run([*command, "--file", str(target)], libpq_env(engine.url))
        return snapshot
    finally:
        await engine.dispose()


async def _counts(conn: object) -> Snapshot:
    counts = {}
    for name in table_names():
        result = await conn.execute(text(f'SELECT count(*) FROM "{name}"'))  # type: ignore[attr-defined]  # noqa: S608
        counts[name] = int(result.scalar())
    revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()  # type: ignore[attr-defined]
    return Snapshot(revision=revision, counts=counts)


async def count_rows(engine: AsyncEngine) -> Snapshot:
    async with engine.connect() as conn:
        return await _counts(conn)


async def postgres_is_empty(url: str) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            )
            return int(found.scalar() or 0) == 0
    finally:
        await engine.dispose()


async def restore_postgres(dump: Path, url: str, *, replace: bool) -> None:
    """Load a custom-format dump; ``replace`` drops the objects it brings first."""
    command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    if replace:
        command += ["--clean", "--if-exists"]
    parsed = parse_database_url(url)
    await _run([*command, "--dbname", parsed.database or "", str(dump)], libpq_env(parsed))
