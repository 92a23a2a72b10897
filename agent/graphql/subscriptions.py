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
from store.database import reading
from store.models import TaskList, User

# Who may hear of a shared row: whoever may read it.
_READING = {
    "tasks": Capability.LISTS_READ,
    "lists": Capability.LISTS_READ,
    "projects": Capability.PROJECTS_READ,
    "events": Capability.CALENDAR_READ,
    "transactions": Capability.MONEY_READ,
}


async def may_see(ctx: SkillContext, notice: ChangeNotice) -> bool:
    """The access rules for one notice, asked afresh (a role can change while a page
    stays open): one may hear of a row one may read before or after the change. An
    item belongs with its list, whoever added it."""
    if notice.ones_own(ctx.user_id):
        return True
    needs = _READING.get(notice.kind)
    if needs is None:
        return False
    allowed = {str(h) for h in await access.households_allowing(ctx, needs)}
    if allowed.intersection(notice.household_ids):
        return True
    for list_id in notice.list_ids if notice.kind == "tasks" else ():
        on = await ctx.session.get(TaskList, uuid.UUID(list_id))
        if on is not None and (on.user_id == ctx.user_id or str(on.household_id) in allowed):
            return True
    return False


def _change(notice: ChangeNotice, user: User) -> t.Change:
    return t.Change(
        kind=notice.kind,
        id=strawberry.ID(notice.id) if notice.id else None,
        action=notice.action,
        household_id=strawberry.ID(notice.household_ids[0]) if notice.household_ids else None,
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
                if not notice.ones_own(user.id):  # one's own changes need no reading
                    async with reading(services.sessions) as session:  # no write lock
                        if not await may_see(SkillContext.for_user(session, user), notice):
                            continue
                yield _change(notice, user)
