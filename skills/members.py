"""The rules about a household's members, asked when they change (skills.households)
and again when such a change is undone (skills.history): only an owner makes or
unmakes an owner, and the last owner stays. Taking a change back never lets anyone
in over a housemate's later change to the members, and never takes away a household
that something else has come to use.

What undo does to each change: a new role goes back to the one before; a removed
member, or one who left, comes back with the role they had; one who joined leaves
again; a sent invitation is withdrawn (not once it has been used); a new household
is deleted while nobody else and nothing else is in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from skills import access
from skills.access import AccessDenied, Capability
from skills.context import Conflict, NotFound, SkillContext, SkillError, joined, name_of
from store.models import AuditEntry, Household, HouseholdRole, Invitation, Membership, User

# The tables whose changes these rules guard, rather than the access rules of a row.
MEMBER_TABLES = frozenset(
    model.__tablename__  # type: ignore[misc]
    for model in (Household, Membership, Invitation)
)
ONLY_OWNERS = "only an owner can make or unmake an owner"
_UNDOING = "undo changes to its members"


async def membership(
    session: AsyncSession, household_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    found = await session.exec(
        select(Membership).where(
            Membership.household_id == household_id, Membership.user_id == user_id
        )
    )
    return found.first()


async def keep_an_owner(
    session: AsyncSession, household_id: uuid.UUID, *, leaving: bool = False
) -> None:
    """Raise unless the household has an owner besides the one about to go."""
    owners = (
        await session.exec(
            select(func.count())
            .select_from(Membership)
            .where(Membership.household_id == household_id, Membership.role == HouseholdRole.OWNER)
        )
    ).one()
    if owners <= 1:
        if leaving:
            raise Conflict("you are its last owner: make someone else an owner before you leave")
        raise Conflict("a household needs an owner: make someone else an owner first")


async def check_role_change(
    session: AsyncSession,
    household_id: uuid.UUID,
    *,
    by: HouseholdRole,
    now: HouseholdRole,
    to: HouseholdRole,
) -> None:
    """Raise unless a member whose role is ``by`` may change a role from ``now`` to
    ``to``: only an owner makes or unmakes an owner, and the last owner stays one."""
    if HouseholdRole.OWNER in (now, to) and by is not HouseholdRole.OWNER:
        raise AccessDenied(ONLY_OWNERS)
    if now is HouseholdRole.OWNER and to is not HouseholdRole.OWNER:
        await keep_an_owner(session, household_id)


async def check_undo(ctx: SkillContext, entry: AuditEntry) -> None:
    """Raise, in words, unless undoing ``entry`` (a change to a household's members)
    is allowed to this user now and leaves the household sound."""
    check = _UNDO_CHECKS.get(entry.action)
    if check is None:
        raise SkillError("that change to a household cannot be undone")
    await check(ctx, entry)


def _only(entry: AuditEntry, table: str) -> dict[str, Any]:
    [change] = [c for c in entry.meta["changes"] if c["table"] == table]
    return change


async def _role_back(ctx: SkillContext, entry: AuditEntry) -> None:
    change = _only(entry, "memberships")
    current = await ctx.session.get(Membership, uuid.UUID(change["id"]))
    if current is None:
        raise SkillError("they are no longer in that household, so I left it as it is")
    me = await access.require_household(
        ctx, current.household_id, Capability.MEMBERS_MANAGE, doing=_UNDOING
    )
    back = HouseholdRole(change["before"]["role"])
    await check_role_change(
        ctx.session, current.household_id, by=me.role, now=current.role, to=back
    )


async def _bring_back(ctx: SkillContext, entry: AuditEntry) -> None:
    """Undo of a removal: the member returns with the role they had."""
    was = _only(entry, "memberships")["before"]
    household_id, user_id = uuid.UUID(was["household_id"]), uuid.UUID(was["user_id"])
    me = await access.require_household(
        ctx, household_id, Capability.MEMBERS_MANAGE, doing=_UNDOING
    )
    if HouseholdRole(was["role"]) is HouseholdRole.OWNER and me.role is not HouseholdRole.OWNER:
        raise AccessDenied(ONLY_OWNERS)
    if await membership(ctx.session, household_id, user_id) is not None:
        who = name_of(await ctx.session.get(User, user_id))
        raise Conflict(f"{who} is in {me.name} again already")


async def _rejoin(ctx: SkillContext, entry: AuditEntry) -> None:
    """Undo of leaving: back in with the role one had, unless a housemate has changed
    the members since (one is not there to be asked)."""
    household_id = uuid.UUID(_only(entry, "memberships")["before"]["household_id"])
    household = await ctx.session.get(Household, household_id)
    if household is None:
        raise NotFound("that household is gone")
    if await membership(ctx.session, household_id, ctx.user_id) is not None:
        raise Conflict(f"you are in {household.name} again already")
    later = await ctx.session.exec(
        select(AuditEntry).where(
            AuditEntry.resource_type == "household",
            AuditEntry.resource_id == str(household_id),
            AuditEntry.user_id != ctx.user_id,
            col(AuditEntry.at) >= entry.at,
        )
    )
    for other in later:
        if other.meta.get("changes") and not other.meta.get("undone"):
            who = name_of(await ctx.session.get(User, other.user_id))
            raise SkillError(
                f"{who} has changed the members of {household.name} since, "
                "so I left it as it is; ask for a new invitation"
            )


async def _leave_again(ctx: SkillContext, entry: AuditEntry) -> None:
    """Undo of joining: leaving, which the last owner may not."""
    current = await ctx.session.get(Membership, uuid.UUID(_only(entry, "memberships")["id"]))
    if current is not None and current.role is HouseholdRole.OWNER:
        await keep_an_owner(ctx.session, current.household_id, leaving=True)


async def _withdraw(ctx: SkillContext, entry: AuditEntry) -> None:
    current = await ctx.session.get(Invitation, uuid.UUID(_only(entry, "invitations")["id"]))
    if current is not None and current.accepted_at is not None:
        to = entry.meta.get("to") or "they"
        raise Conflict(f"{to} has joined with that invitation already; remove them instead")


async def _unmake(ctx: SkillContext, entry: AuditEntry) -> None:
    """Undo of making a household: deleted, while only its maker is in it and
    nothing (a list, an event, money, an invitation…) has been shared with it."""
    household = await ctx.session.get(Household, uuid.UUID(_only(entry, "households")["id"]))
    if household is None:
        return
    mine = uuid.UUID(_only(entry, "memberships")["id"])
    held = await _in_use(ctx.session, household.id, keep=mine)
    if held:
        raise Conflict(f"{household.name} has {joined(held)} now, so I left it as it is")


async def _in_use(session: AsyncSession, household_id: uuid.UUID, *, keep: uuid.UUID) -> list[str]:
    """What refers to a household, by table (every column that references it, read
    from the schema, so a table added later is asked too), but for membership ``keep``."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if not any(fk.column.table.name == "households" for fk in column.foreign_keys):
                continue
            counted = select(func.count()).select_from(table).where(column == household_id)
            if table.name == "memberships":
                counted = counted.where(table.c.id != keep)
            if (await session.exec(counted)).one():
                found.append("other members" if table.name == "memberships" else table.name)
    return [name.replace("_", " ") for name in found]


_UNDO_CHECKS: dict[str, Callable[[SkillContext, AuditEntry], Awaitable[None]]] = {
    "households.create": _unmake,
    "households.invite": _withdraw,
    "households.join": _leave_again,
    "households.role": _role_back,
    "households.remove": _bring_back,
    "households.leave": _rejoin,
}
