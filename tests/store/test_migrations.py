"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from store import migrate
from store.database import create_engine
from store.migrate import render_item
from store.models import metadata
from tests.conftest import BACKENDS, DatabaseFactory


async def schema_diff(engine: AsyncEngine) -> list:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_item": render_item}
        )
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        return await conn.run_sync(diff)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrated_schema_equals_models(engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) == migrate.head_revision()
    assert await schema_diff(engine) == []


@pytest.mark.parametrize("backend", BACKENDS)
async def test_downgrade_to_nothing_and_back(databases: DatabaseFactory, backend: str) -> None:
    engine = create_engine(await databases.new(backend))
    try:
        await migrate.upgrade(engine)
        expected = {t.name for t in metadata.sorted_tables}
        assert expected <= await table_names(engine)

        await migrate.downgrade(engine, "base")
        assert await table_names(engine) <= {"alembic_version"}
        assert await migrate.current_revision(engine) is None

        await migrate.upgrade(engine)
        assert await schema_diff(engine) == []
    finally:
        await engine.dispose()
