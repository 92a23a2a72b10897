"""Creating households and reading who belongs to which, with what role."""

from __future__ import annotations

import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models.households import Household, HouseholdRole, Membership
from store.models.users import User


def personal_name(user: User) -> str:
    label = (user.name or user.email.split("@")[0])[:80]
    return f"{label}'s household"


async def create_household(
    session: AsyncSession, name: str, owner_id: uuid.UUID, *, personal: bool = False
) -> Household:
    """A household with its first owner, added in the caller's transaction."""
    household = Household(name=name, personal=personal)
    session.add(household)
    await session.flush()
    session.add(Membership(household_id=household.id, user_id=owner_id, role=HouseholdRole.OWNER))
    await session.flush()
    return household


async def memberships_of(
    session: AsyncSession, user_id: uuid.UUID
) -> list[tuple[Household, Membership]]:
    rows = await session.exec(
        select(Household, Membership)
        .join(Membership, Membership.household_id == Household.id)  # type: ignore[arg-type]
        .where(Membership.user_id == user_id)
    )
    return list(rows.all())
