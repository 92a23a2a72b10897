"""Two users on the shared store, each with a skill context on a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from skills.context import SkillContext
from store.models import User, UserCreate
from store.repositories.users import create_user

# A Wednesday afternoon in New York.
NOW = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


async def make_user(session: AsyncSession, email: str, tz: str = "America/New_York") -> User:
    user = await create_user(session, UserCreate(email=email, timezone=tz))
    await session.commit()
    return user


@pytest.fixture
async def ctx(session: AsyncSession, clock: Clock) -> SkillContext:
    user = await make_user(session, "ann@example.com")
    return SkillContext.for_user(session, user, clock=clock)


@pytest.fixture
async def other(session: AsyncSession, clock: Clock) -> SkillContext:
    user = await make_user(session, "bob@example.com", tz="Europe/London")
    return SkillContext.for_user(session, user, clock=clock)
