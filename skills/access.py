"""Who may do what: the one place households' roles are decided.

Every service asks here before it reads or changes a row, so the web page, REST,
voice, SMS, the phone, the speaker and the CLI all obey the same rules. A row is the
user's own (they made it: full rights), shared with a household they belong to
(their role there decides), or another's (it does not exist for them).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, or_
from sqlmodel import col, select

from skills.context import NotFound, SkillContext, SkillError
from store.models import HouseholdRole, Task, TaskList
from store.repositories.households import memberships_of


class Capability(StrEnum):
    LISTS_READ = "lists.read"
    LISTS_EDIT = "lists.edit"  # add, change, complete and remove items
    LISTS_MANAGE = "lists.manage"  # delete, rename or unshare a shared list
    CALENDAR_READ = "calendar.read"
    CALENDAR_WRITE = "calendar.write"  # add, move, change, cancel shared events
    CALENDAR_MANAGE = "calendar.manage"  # take another's event off the household calendar
    PROJECTS_READ = "projects.read"  # its jobs and clients, not their money
    PROJECTS_WRITE = "projects.write"  # start a project in the household
    PROJECTS_MANAGE = "projects.manage"  # rename, unshare or delete a shared project
    MONEY_READ = "money.read"  # the household's books: expenses, income, job costing
    # Keeping them: change its rows, billable work, invoices, and manage what fills
    # them (its bank connections, statement imports, categories and their rules).
    MONEY_WRITE = "money.write"
    # Adding to them without reading them: record an expense, import a statement,
    # filed under the household's categories by its rules.
    MONEY_LOG = "money.log"
    MEMBERS_INVITE = "members.invite"
    MEMBERS_MANAGE = "members.manage"  # change roles, remove members


# What only looks: a device that may read alone (a dashboard's token) is refused the rest.
READS = frozenset(
    {
        Capability.LISTS_READ,
        Capability.CALENDAR_READ,
        Capability.PROJECTS_READ,
        Capability.MONEY_READ,
    }
)
MONEY = frozenset({Capability.MONEY_READ, Capability.MONEY_WRITE})


class Scope(StrEnum):
    OWN = "own"
    SHARED = "shared"
    OTHER = "other"


_C = Capability
_EVERYTHING = frozenset(Capability)
# The permission table. Owners and admins differ in what the household service
# adds on top: only an owner makes or unmakes another owner.
RIGHTS: dict[HouseholdRole, frozenset[Capability]] = {
    HouseholdRole.OWNER: _EVERYTHING,
    HouseholdRole.ADMIN: _EVERYTHING,
    HouseholdRole.MEMBER: frozenset(
        {
            _C.LISTS_READ,
            _C.LISTS_EDIT,
            _C.CALENDAR_READ,
            _C.CALENDAR_WRITE,
            _C.PROJECTS_READ,
            _C.PROJECTS_WRITE,
            _C.MONEY_LOG,
        }
    ),
    HouseholdRole.VIEWER: frozenset({_C.LISTS_READ, _C.CALENDAR_READ, _C.PROJECTS_READ}),
    # The books and the jobs they are kept for; no lists, no calendar.
    HouseholdRole.BOOKKEEPER: frozenset(
        {_C.MONEY_READ, _C.MONEY_WRITE, _C.MONEY_LOG, _C.PROJECTS_READ}
    ),
}

# What a person must at least be able to do to know a row exists.
_SEEING: dict[Capability, Capability] = {
    _C.LISTS_READ: _C.LISTS_READ,
    _C.LISTS_EDIT: _C.LISTS_READ,
    _C.LISTS_MANAGE: _C.LISTS_READ,
    _C.CALENDAR_READ: _C.CALENDAR_READ,
    _C.CALENDAR_WRITE: _C.CALENDAR_READ,
    _C.CALENDAR_MANAGE: _C.CALENDAR_READ,
    _C.PROJECTS_READ: _C.PROJECTS_READ,
    _C.PROJECTS_WRITE: _C.PROJECTS_READ,
    _C.PROJECTS_MANAGE: _C.PROJECTS_READ,
    _C.MONEY_READ: _C.MONEY_READ,
    _C.MONEY_WRITE: _C.MONEY_READ,
    _C.MONEY_LOG: _C.MONEY_LOG,  # asked of a household, never of a row
    _C.MEMBERS_INVITE: _C.MEMBERS_INVITE,
    _C.MEMBERS_MANAGE: _C.MEMBERS_MANAGE,
}


def can(role: HouseholdRole | None, capability: Capability, scope: Scope) -> bool:
    """The decision, pure: one's own rows are one's own, others' are invisible."""
    if scope is Scope.OWN:
        return True
    if scope is Scope.OTHER or role is None:
        return False
    return capability in RIGHTS[role]


class AccessDenied(SkillError):
    """Seen but not allowed: the message is said or shown as it is (REST: 403)."""

    status = 403


@dataclass(frozen=True)
class Reach:
    """What the device a request came through may do, whatever its user's roles
    allow: a kitchen speaker keeps the lists and the calendar, never the money. On
    the context as ``ctx.reach``; None there: all the user may."""

    grants: frozenset[Capability]
    device: str = "this device"  # how a refusal names it: "this speaker"

    def refusal(self, capability: Capability) -> str:
        """Why ``capability`` is refused here, in words fit to say."""
        if capability not in READS and self.grants <= READS:
            return (
                f"I can only look things up from {self.device}; "
                "use the app or your phone to change anything."
            )
        if capability in MONEY:
            return f"I can't do money from {self.device}; use the app or your phone."
        return f"I can't do that from {self.device}; use the app or your phone."


def within_reach(ctx: SkillContext, capability: Capability) -> None:
    """Raise AccessDenied, in words, when the device acting may not ``capability``,
    whoever the user is and whatever the row: asked before anything is read or written."""
    reach: Reach | None = ctx.reach
    if reach is not None and capability not in reach.grants:
        raise AccessDenied(reach.refusal(capability))


@dataclass(frozen=True)
class MemberOf:
    household_id: uuid.UUID
    name: str
    role: HouseholdRole
    personal: bool


async def memberships(ctx: SkillContext) -> dict[uuid.UUID, MemberOf]:
    """The user's households and roles, read once per request."""
    if ctx.memberships is None:
        rows = await memberships_of(ctx.session, ctx.user_id)
        ctx.memberships = {h.id: MemberOf(h.id, h.name, m.role, h.personal) for h, m in rows}
    return ctx.memberships


def forget_memberships(ctx: SkillContext) -> None:
    """After a change of membership, read them again."""
    ctx.memberships = None


async def households_allowing(ctx: SkillContext, capability: Capability) -> list[uuid.UUID]:
    found = await memberships(ctx)
    return [h for h, m in found.items() if can(m.role, capability, Scope.SHARED)]


async def visible(ctx: SkillContext, model: Any, capability: Capability) -> ColumnElement[bool]:
    """The WHERE clause for the rows of ``model`` (with user_id and household_id) the
    user may see: their own and those shared with a household that lets them."""
    shared = await households_allowing(ctx, capability)
    in_shared = col(model.household_id).in_(shared) if shared else false()
    return or_(model.user_id == ctx.user_id, in_shared)


async def visible_tasks(ctx: SkillContext) -> ColumnElement[bool]:
    """Tasks one may see: one's own, and every item of a list one may see."""
    lists = select(TaskList.id).where(await visible(ctx, TaskList, Capability.LISTS_READ))
    return or_(Task.user_id == ctx.user_id, col(Task.list_id).in_(lists))


async def scope_of(ctx: SkillContext, row: Any) -> tuple[Scope, MemberOf | None]:
    """Whose a row is, for this user. A task belongs with its list: an item on a
    shared list is as shared as the list, whoever added it."""
    if isinstance(row, Task) and row.list_id is not None:
        on = await ctx.session.get(TaskList, row.list_id)
        if on is not None:
            scope, member = await scope_of(ctx, on)
            if scope is not Scope.OTHER or row.user_id != ctx.user_id:
                return scope, member
    if getattr(row, "user_id", None) == ctx.user_id:
        return Scope.OWN, None
    household_id = getattr(row, "household_id", None)
    member = (await memberships(ctx)).get(household_id) if household_id else None
    return (Scope.SHARED, member) if member else (Scope.OTHER, None)


async def require_household(
    ctx: SkillContext, household_id: uuid.UUID, capability: Capability, *, doing: str
) -> MemberOf:
    """The user's membership of a household that lets them ``capability`` in it."""
    member = (await memberships(ctx)).get(household_id)
    if member is None:
        raise NotFound("no such household")
    if not can(member.role, capability, Scope.SHARED):
        raise AccessDenied(f"as a {member.role} of {member.name}, you can't {doing}")
    return member


async def require(
    ctx: SkillContext, row: Any, capability: Capability, *, noun: str, what: str, doing: str
) -> Scope:
    """Raise unless the user may do ``capability`` to ``row``: NotFound when they may
    not even see it, AccessDenied (in words fit to say) when they may see it only."""
    scope, member = await scope_of(ctx, row)
    role = member.role if member else None
    if can(role, capability, scope):
        return scope
    if not can(role, _SEEING[capability], scope):
        raise NotFound(f"no such {noun}")
    assert member is not None
    named = f"the {member.name} {what}"
    seeing = _SEEING[capability]
    changes = [c for c, seen in _SEEING.items() if seen is seeing and c is not seeing]
    if not any(can(role, c, scope) for c in changes):
        raise AccessDenied(f"you can only view {named}")
    raise AccessDenied(f"as a {role} of {member.name}, you can't {doing} {named}")
