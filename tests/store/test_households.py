"""Every user has a personal household they own: new users from the start, and
users who existed before households, through migration 0007."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlmodel import select

from store import migrate
from store.database import create_engine, session_factory
from store.models import Household, HouseholdRole, Membership, UserCreate
from store.repositories.households import memberships_of
from store.repositories.users import create_user
from tests.conftest import BACKENDS, DatabaseFactory


async def test_a_new_user_owns_a_personal_household(session) -> None:
    user = await create_user(session, UserCreate(email="ann@example.com", name="Ann"))
    [(household, membership)] = await memberships_of(session, user.id)
    assert (household.name, household.personal, membership.role) == (
        "Ann's household",
        True,
        HouseholdRole.OWNER,
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_gives_existing_users_a_personal_household(
    databases: DatabaseFactory, backend: str
) -> None:
    engine = create_engine(await databases.new(backend))
    try:
        await migrate.upgrade(engine, "0006")
        ids = [uuid.uuid4(), uuid.uuid4()]
        async with engine.begin() as conn:
            for user_id, email, name in zip(
                ids, ["ann@example.com", "bob@example.com"], ["Ann", None], strict=True
            ):
                await conn.execute(
                    text(
                        "INSERT INTO users (id, email, name, settings, is_owner, created_at)"
                        " VALUES (:id, :email, :name, '{}', false, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "id": user_id.hex if backend == "sqlite" else user_id,
                        "email": email,
                        "name": name,
                    },
                )
        await migrate.upgrade(engine)
        async with session_factory(engine)() as session:
            rows = (await session.exec(select(Household, Membership).join(Membership))).all()
        owned = {m.user_id: (h.name, h.personal, m.role) for h, m in rows}
        assert owned == {
            ids[0]: ("Ann's household", True, HouseholdRole.OWNER),
            ids[1]: ("bob's household", True, HouseholdRole.OWNER),
        }
    finally:
        await engine.dispose()
