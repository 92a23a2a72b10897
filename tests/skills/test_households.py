"""Households in the service layer: invitations, the rules about owners, and undo
in a shared list taking back only one's own change."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from skills.access import AccessDenied, forget_memberships
from skills.context import Conflict, NotFound, SkillContext, SkillError
from skills.history import undo_last
from skills.households import HouseholdCreate, HouseholdService, InvitationCreate
from skills.tasks.schemas import TaskCreate, TaskQuery
from skills.tasks.service import TaskService
from store.models import AuditEntry, HouseholdRole, TaskStatus, User, UserCreate
from store.repositories.users import create_user
from tests.skills.conftest import Clock


async def family_with(
    ann: SkillContext, bob: SkillContext, role: HouseholdRole
) -> tuple[HouseholdService, HouseholdService, uuid.UUID]:
    ann_side, bob_side = HouseholdService(ann), HouseholdService(bob)
    family = await ann_side.create(HouseholdCreate(name="Family"))
    user = await bob.session.get(User, bob.user_id)
    assert user is not None
    sent = await ann_side.invite(family.id, InvitationCreate(email=user.email, role=role))
    await bob_side.accept(sent.code)
    return ann_side, bob_side, family.id


async def test_an_invitation_is_for_one_address_once_and_expires(
    ctx: SkillContext, other: SkillContext, session: AsyncSession, clock: Clock
) -> None:
    ann = HouseholdService(ctx)
    family = await ann.create(HouseholdCreate(name="Family"))
    cara = await create_user(session, UserCreate(email="cara@example.com", phone="+14155550123"))
    cara_ctx = SkillContext.for_user(session, cara, clock=clock)
    sent = await ann.invite(family.id, InvitationCreate(phone="+1 415 555 0123", role="viewer"))
    assert sent.phone == "+14155550123" and len(sent.code) == 10

    with pytest.raises(NotFound, match="not valid for you"):  # Bob is not that number
        await HouseholdService(other).accept(sent.code)
    joined = await HouseholdService(cara_ctx).accept(f" {sent.code[:5]}-{sent.code[5:]} ")
    assert (joined.name, joined.role) == ("Family", HouseholdRole.VIEWER)
    with pytest.raises(Conflict, match="already been used"):
        await HouseholdService(cara_ctx).accept(sent.code)

    late = await ann.invite(family.id, InvitationCreate(email="bob@example.com"))
    clock.now += timedelta(days=7, seconds=1)
    with pytest.raises(SkillError, match="expired"):
        await HouseholdService(other).accept(late.code)
    with pytest.raises(ValueError, match="exactly one"):
        InvitationCreate(email="bob@example.com", phone="+14155550123")


async def test_only_owners_make_owners_and_the_last_owner_stays(
    ctx: SkillContext, other: SkillContext
) -> None:
    ann, bob, family = await family_with(ctx, other, HouseholdRole.MEMBER)
    with pytest.raises(AccessDenied, match="as a member of Family, you can't invite"):
        await bob.invite(family, InvitationCreate(email="cara@example.com"))
    with pytest.raises(Conflict, match="last owner"):
        await ann.leave(family)
    with pytest.raises(Conflict, match="needs an owner"):
        await ann.set_role(family, ctx.user_id, HouseholdRole.ADMIN)

    await ann.set_role(family, other.user_id, HouseholdRole.ADMIN)
    forget_memberships(other)  # as Bob's next request would read them
    with pytest.raises(AccessDenied, match="only an owner"):
        await bob.set_role(family, other.user_id, HouseholdRole.OWNER)
    with pytest.raises(AccessDenied, match="only an owner can remove an owner"):
        await bob.remove(family, ctx.user_id)

    await ann.set_role(family, other.user_id, HouseholdRole.OWNER)
    forget_memberships(other)
    await ann.leave(family)  # Bob owns it now
    assert [m.email for m in await bob.members(family)] == ["bob@example.com"]
    with pytest.raises(NotFound):
        await ann.members(family)


async def test_undo_takes_back_only_your_own_change_never_over_a_housemates(
    ctx: SkillContext, other: SkillContext
) -> None:
    _, _, family = await family_with(ctx, other, HouseholdRole.MEMBER)
    ann_tasks, bob_tasks = TaskService(ctx), TaskService(other)
    await ann_tasks.create(TaskCreate(title="milk", list="shopping"))
    shopping = await ann_tasks.find_list("shopping")
    assert shopping is not None
    await ann_tasks.share_list(shopping.id, family)

    eggs = await bob_tasks.create(TaskCreate(title="eggs", list="family shopping"))
    assert eggs.list_id == shopping.id
    [added] = await other.session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "tasks.create", AuditEntry.user_id == other.user_id
        )
    )
    assert added.meta["title"] == "eggs"  # the audit log names who did it
    await ann_tasks.complete(eggs.id)

    with pytest.raises(SkillError, match="ann has changed eggs since, so I left it as it is"):
        await undo_last(other)
    assert eggs.status == TaskStatus.DONE

    assert (await undo_last(ctx)).action == "tasks.complete"  # Ann's own change
    assert (await undo_last(other)).action == "tasks.create"  # now Bob's is his alone
    assert [t.title for t in await ann_tasks.search(TaskQuery(list="shopping"))] == ["milk"]
