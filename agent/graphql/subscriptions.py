"""Live changes: each committed change this user may see, as it happens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

import strawberry

from agent.graphql import types as t
from agent.graphql.context import Info
from agent.live.bus import ChangeNotice
from skills import access
from skills.access import Capability
from skills.context import SkillContext
from store.database import session_scope
from store.models import TaskList, User

# Who may hear of a shared row: whoever may read it.
_READING = {
    "tasks": Capability.LISTS_READ,
    "lists": Capability.LISTS_READ,
    "events": Capability.CALENDAR_READ,
    "transactions": Capability.MONEY_READ,
}


async def may_see(ctx: SkillContext, notice: ChangeNotice) -> bool:
    """The access rules for one notice, asked afresh (a role can change while a page
    stays open). An item belongs with its list, whoever added it."""
    if notice.owned_by(ctx.user_id):
        return True
    needs = _READING.get(notice.kind)
    if needs is None:
        return False
    if notice.kind == "tasks" and notice.list_id:
        on = await ctx.session.get(TaskList, uuid.UUID(notice.list_id))
        if on is not None:
            scope, member = await access.scope_of(ctx, on)
            return access.can(member.role if member else None, needs, scope)
    if notice.household_id is None:
        return False
    return uuid.UUID(notice.household_id) in await access.households_allowing(ctx, needs)


def _change(notice: ChangeNotice, user: User) -> t.Change:
    return t.Change(
        kind=notice.kind,
        id=strawberry.ID(notice.id) if notice.id else None,
        action=notice.action,
        household_id=strawberry.ID(notice.household_id) if notice.household_id else None,
        mine=notice.actor_id == str(user.id),
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every change you may see (yours, and your households'), as it is saved"
    )
    async def changes(self, info: Info) -> AsyncGenerator[t.Change, None]:
        services, user = info.context.services, info.context.user
        assert user is not None  # the socket signs in before it may subscribe
        async with services.changes.subscribe() as notices:
            async for notice in notices:
                if not notice.owned_by(user.id):  # one's own changes need no reading
                    async with session_scope(services.sessions) as session:
                        if not await may_see(SkillContext.for_user(session, user), notice):
                            continue
                yield _change(notice, user)
