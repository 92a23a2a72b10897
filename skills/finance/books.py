"""Whose money a question is about: the user's own (what they recorded), or a
household's books, which only a role that keeps them may read (skills.access RIGHTS:
owners, admins and the bookkeeper; members and viewers are told so, in words)."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement

from skills import access
from skills.access import AccessDenied, Capability, Scope
from skills.context import SkillContext
from store.models import Transaction

SEEING_MONEY = "see its money"


async def books(ctx: SkillContext, household_id: uuid.UUID | None) -> ColumnElement[bool]:
    """The WHERE clause for the transactions asked about: with no household, the
    ones the user recorded; else that household's books, if the user may read them."""
    if household_id is None:
        return Transaction.user_id == ctx.user_id
    await access.require_household(ctx, household_id, Capability.MONEY_READ, doing=SEEING_MONEY)
    return Transaction.household_id == household_id


async def our_household(ctx: SkillContext) -> uuid.UUID | None:
    """What "we" means in "how much did we spend": the household the user shares
    (the first by name that lets them read its books), or None when they share none
    and "we" is just them. A role that may not read money is refused, in words."""
    shared = sorted(
        (m for m in (await access.memberships(ctx)).values() if not m.personal),
        key=lambda m: m.name.lower(),
    )
    if not shared:
        return None
    for member in shared:
        if access.can(member.role, Capability.MONEY_READ, Scope.SHARED):
            return member.household_id
    first = shared[0]
    raise AccessDenied(f"as a {first.role} of {first.name}, you can't {SEEING_MONEY}")


async def household_name(ctx: SkillContext, household_id: uuid.UUID | None) -> str | None:
    """The name a reply gives the books it read: None for the user's own."""
    if household_id is None:
        return None
    return (await access.memberships(ctx))[household_id].name
