"""Getting a database ready to serve: reachable, migrated, and with an owner."""

from __future__ import annotations

from dataclasses import dataclass

from agent.settings import Settings
from store import migrate
from store.database import (
    check_connection,
    create_engine,
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


async def prepare_database(settings: Settings, *, create_owner: bool = True) -> Readiness:
    """Check the database answers, apply migrations, and on an empty database create
    the owner user. Raises store.database.DatabaseError with a one-line reason."""
    engine = create_engine(settings.resolved_database_url)
    try:
        await check_connection(engine)
        before = await migrate.current_revision(engine)
        await migrate.upgrade(engine)
        owner = None
        if create_owner:
            async with session_scope(session_factory(engine)) as session:
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
