"""Getting a database ready to serve: reachable, migrated, and with an owner."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from agent.settings import Settings
from store import migrate
from store.database import (
    check_connection,
    create_engine,
    parse_database_url,
    session_factory,
    session_scope,
)
from store.models.users import User, UserCreate
from store.repositories.users import count_users, create_user


@dataclass(frozen=True)
class Readiness:
    applied_from: str | None  # revision before upgrading; None for a new database
    revision: str | None
    new_owner: User | None  # set when this start created the owner


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def secure_data_dir(settings: Settings) -> None:
    """Make the data directory (and an embedded database's folder) owner-only when
    creating it, create the SQLite file owner-only before SQLite does (its WAL and
    shared-memory files copy the database's mode), and take group and other access
    away from the database and secret files that an older version left open.
    Folders that already exist keep their mode: an operator may have chosen it."""
    settings.data_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    database = sqlite_file(settings.resolved_database_url)
    if database is not None:
        database.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
        companions = [database.with_name(database.name + end) for end in ("-wal", "-shm")]
    else:
        companions = []
    for path in (database, *companions, settings.secret_file, settings.key_file):
        if path is not None and path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(PRIVATE_FILE)


def sqlite_file(url: str) -> Path | None:
    parsed = parse_database_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


async def prepare_database(settings: Settings, *, create_owner: bool = True) -> Readiness:
    """Check the database answers, apply migrations, and on an empty database create
    the owner user. Raises store.database.DatabaseError with a one-line reason."""
    secure_data_dir(settings)
    engine = create_engine(settings.resolved_database_url)
    try:
        await check_connection(engine)
        before = await migrate.current_revision(engine)
        await migrate.upgrade(engine)
        owner = None
        if create_owner:
            async with session_scope(session_factory(engine)) as session:
                # Two first starts at once: one creates the owner, the other sees it.
                await (await session.connection()).run_sync(migrate.hold_schema_lock)
                if await count_users(session) == 0:
                    owner = await create_user(
                        session,
                        UserCreate(
                            email=settings.owner_email,
                            timezone=settings.default_timezone,
                        ),
                        is_owner=True,
                    )
        return Readiness(before, await migrate.current_revision(engine), owner)
    finally:
        await engine.dispose()
