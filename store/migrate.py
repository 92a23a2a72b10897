"""Schema migrations with Alembic, run programmatically on an async engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.types import EnumText, ExactDecimal, UTCDateTime

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Files sort by date: 20261125_0001_initial_schema.py
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


# A PostgreSQL advisory lock key ("lifeos" in ASCII): held by whoever is migrating.
SCHEMA_LOCK = 0x6C6966656F73


def hold_schema_lock(connection: Connection) -> None:
    """Wait for, then hold until this transaction ends, the schema lock: services
    starting at once on several machines migrate one after the other (the later ones
    find nothing left to do). SQLite needs none: its transaction takes the write lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction (DDL is transactional
    on both PostgreSQL and SQLite, so a failed migration leaves the schema as it was)."""

    def apply(connection: Connection) -> None:
        hold_schema_lock(connection)
        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(apply)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), revision))


async def autogenerate(engine: AsyncEngine, message: str, revision_id: str) -> None:
    """Write a new migration for what the models have that ``engine``'s schema lacks."""
    async with engine.begin() as conn:
        await conn.run_sync(
            lambda c: command.revision(
                alembic_config(c),
                message=message,
                autogenerate=True,
                rev_id=revision_id,
            )
        )


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write our column types as their plain SQL types, so that old migrations
    never break when the Python types change."""
    if type_ != "type":
        return False
    if isinstance(obj, JSON):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, EnumText):
        return f"sa.String(length={obj.impl.length})"
    if isinstance(obj, ExactDecimal):
        return "sa.BigInteger()"
    if type(obj).__name__ == "AutoString":
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False
