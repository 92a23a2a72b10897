"""How long `lifeos backup` and `lifeos restore` take, and how big the archive is, for
a seeded database: N tasks, N events, N transactions and F invoices with a 20 KB file
each. Backup and restore run in this process, three times each; medians reported,
beside the bare database copy alone (the SQLite backup API, or pg_dump) as the
baseline: what the archive's packing, deflating and sealing add to it.

    uv run --frozen python -m eval.backup [--rows 10000] [--files 200] [--postgres ADMIN_URL]

With --postgres (e.g. postgresql://postgres@127.0.0.1:5432/test) the source and the
restore targets are new databases on that server, dropped at the end."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

from agent.backup import databases
from agent.backup.archive import backup, restore
from agent.bootstrap import prepare_database, sqlite_file
from agent.keys import file_store
from agent.settings import Settings
from store.database import create_engine, session_factory, session_scope
from store.models.calendar import Event
from store.models.finance import Invoice, Transaction
from store.models.planning import Task

PASSPHRASE = "benchmark passphrase"  # noqa: S105 (a throwaway archive's)
BATCH = 2000


async def seed(settings: Settings, rows: int, files: int) -> None:
    ready = await prepare_database(settings)
    assert ready.new_owner is not None
    owner = ready.new_owner.id
    engine = create_engine(settings.resolved_database_url)
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    try:
        for first in range(0, rows, BATCH):
            async with session_scope(session_factory(engine)) as db:
                for i in range(first, min(rows, first + BATCH)):
                    when = start + timedelta(hours=i)
                    db.add(Task(user_id=owner, title=f"task {i}", due_at=when))
                    db.add(
                        Event(
                            user_id=owner,
                            title=f"event {i}",
                            start_at=when,
                            end_at=when + timedelta(hours=1),
                        )
                    )
                    db.add(
                        Transaction(
                            user_id=owner,
                            amount=Decimal(i % 500) + Decimal("0.25"),
                            currency="USD",
                            occurred_on=when.date(),
                            merchant=f"shop {i % 300}",
                        )
                    )
        store = file_store(settings)
        async with session_scope(session_factory(engine)) as db:
            for number in range(1, files + 1):
                key = f"invoices/{owner}/{number}.pdf"
                await store.put(key, os.urandom(20_000))
                db.add(
                    Invoice(
                        user_id=owner,
                        number=number,
                        currency="USD",
                        issued_on=date(2026, 1, 1),
                        due_on=date(2026, 1, 31),
                        subtotal=Decimal(100),
                        total=Decimal(100),
                        file_key=key,
                    )
                )
    finally:
        await engine.dispose()


async def bare_copy(settings: Settings, target: Path) -> None:
    database = sqlite_file(settings.resolved_database_url)
    if database is not None:
        await asyncio.to_thread(databases.copy_sqlite, database, target)
    else:
        await databases.dump_postgres(settings.resolved_database_url, target)


async def new_database(admin: str | None, made: list[str]) -> str | None:
    if admin is None:
        return None
    name = f"lifeos_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    made.append(name)
    return admin.rsplit("/", 1)[0] + "/" + name


async def drop(admin: str | None, made: list[str]) -> None:
    if admin is None or not made:
        return
    conn = await asyncpg.connect(admin)
    try:
        for name in made:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def main(rows: int, files: int, admin: str | None, runs: int) -> None:
    made: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        try:
            source = Settings(
                data_dir=root / "source", database_url=await new_database(admin, made)
            )
            began = time.perf_counter()
            await seed(source, rows, files)
            print(
                f"seeded {rows} tasks, events and transactions and {files} files "
                f"in {time.perf_counter() - began:.1f} s"
            )
            backups, restores, sizes, bare = [], [], [], []
            for run in range(runs):
                began = time.perf_counter()
                await bare_copy(source, root / f"bare-{run}")
                bare.append(time.perf_counter() - began)
                began = time.perf_counter()
                result = await backup(source, root / f"backups-{run}", PASSPHRASE)
                backups.append(time.perf_counter() - began)
                sizes.append(result.size)
                target = Settings(
                    data_dir=root / f"restored-{run}", database_url=await new_database(admin, made)
                )
                began = time.perf_counter()
                await restore(result.path, PASSPHRASE, target)
                restores.append(time.perf_counter() - began)
            database = source.data_dir / "lifeos.db"
            kind = "PostgreSQL" if admin else f"SQLite ({database.stat().st_size / 1e6:.1f} MB)"
            print(f"database: {kind}, {sum(result.manifest['counts'].values())} rows")
            print(f"archive: {statistics.median(sizes) / 1e6:.1f} MB")
            print(
                f"backup:  median {statistics.median(backups):.2f} s  (runs: "
                + ", ".join(f"{t:.2f}" for t in backups)
                + ")"
            )
            ratio = statistics.median(backups) / statistics.median(bare)
            print(
                f"bare database copy: median {statistics.median(bare):.2f} s; backup {ratio:.2f}x"
            )
            print(
                f"restore: median {statistics.median(restores):.2f} s  (runs: "
                + ", ".join(f"{t:.2f}" for t in restores)
                + ")"
            )
            print("load average: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
        finally:
            await drop(admin, made)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.files, args.postgres, args.runs))
