"""Creating users: normalized fields, clear refusals, nothing half-written."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import AuditEntry, User, UserCreate
from store.repositories.users import (
    UserConflict,
    count_users,
    create_user,
    get_user_by_email,
)


async def test_create_normalizes_and_keeps_preferences(session: AsyncSession) -> None:
    data = UserCreate(email="Ann@Example.COM", phone="+1 (415) 555-0123", timezone="Europe/Paris")
    user = await create_user(session, data)
    await session.commit()

    found = await get_user_by_email(session, "ANN@example.com")
    assert found is not None
    assert found.id == user.id
    assert found.email == "ann@example.com"
    assert found.phone == "+14155550123"
    assert found.preferences.timezone == "Europe/Paris"
    assert found.preferences.currency == "USD"
    assert found.preferences.working_hours.days == [0, 1, 2, 3, 4]
    assert found.created_at.tzinfo is not None

    audit = (await session.exec(select(AuditEntry).where(AuditEntry.user_id == user.id))).all()
    assert [a.action for a in audit] == ["users.create"]


async def test_duplicate_email_is_refused_and_adds_no_row(session: AsyncSession) -> None:
    await create_user(session, UserCreate(email="ann@example.com"))
    await session.commit()
    with pytest.raises(UserConflict, match=r"email ann@example\.com already exists"):
        await create_user(session, UserCreate(email="ANN@example.com"))
    await session.rollback()
    assert await count_users(session) == 1


async def test_duplicate_phone_is_refused(session: AsyncSession) -> None:
    await create_user(session, UserCreate(email="a@example.com", phone="+442071838750"))
    await session.commit()
    with pytest.raises(UserConflict, match=r"phone \+442071838750 already exists"):
        await create_user(session, UserCreate(email="b@example.com", phone="+44 20 7183 8750"))
    await session.rollback()
    assert await count_users(session) == 1


async def test_database_enforces_unique_email_too(session: AsyncSession) -> None:
    session.add(User(email="same@example.com"))
    await session.commit()
    session.add(User(email="same@example.com"))
    with pytest.raises(IntegrityError):
        await session.commit()
    await session.rollback()
    assert await count_users(session) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "not a valid email"),
        ({"email": "a@example.com", "phone": "555-0123"}, "international form"),
        ({"email": "a@example.com", "phone": "+1 555"}, "not a valid phone number"),
        ({"email": "a@example.com", "timezone": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_bad_fields_are_refused_with_a_reason(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        UserCreate(**fields)
