"""Households in the service layer: invitations, the rules about owners, undo in a
shared list taking back only one's own change, and undo of the changes to a
household's members (the rules about owners holding after it too)."""

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
from store.models import (
    AuditEntry,
    Household,
    HouseholdRole,
    Invitation,
    TaskStatus,
    User,
    UserCreate,
    WebhookSubscription,
)
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


async def roles(side: HouseholdService, family: uuid.UUID) -> dict[str, HouseholdRole]:
    return {m.email: m.role for m in await side.members(family)}


async def test_undo_gives_back_a_role_a_removed_member_and_a_leaver_their_place(
    ctx: SkillContext, other: SkillContext, session: AsyncSession, clock: Clock
) -> None:
    ann, bob, family = await family_with(ctx, other, HouseholdRole.ADMIN)
    cara = await create_user(session, UserCreate(email="cara@example.com"))
    cara_ctx = SkillContext.for_user(session, cara, clock=clock)
    cara_side = HouseholdService(cara_ctx)
    sent = await ann.invite(family, InvitationCreate(email="cara@example.com"))
    await cara_side.accept(sent.code)
    await ann.set_role(family, other.user_id, HouseholdRole.VIEWER)
    assert (await undo_last(ctx)).action == "households.role"
    assert (await roles(ann, family))["bob@example.com"] is HouseholdRole.ADMIN

    await ann.remove(family, other.user_id)
    forget_memberships(other)
    with pytest.raises(NotFound):
        await bob.members(family)
    assert (await undo_last(ctx)).action == "households.remove"
    forget_memberships(other)
    assert (await roles(bob, family))["bob@example.com"] is HouseholdRole.ADMIN

    await bob.leave(family)
    assert (await undo_last(other)).action == "households.leave"
    assert (await roles(bob, family))["bob@example.com"] is HouseholdRole.ADMIN

    # Undo never goes over a housemate's later change to the same member.
    await ann.set_role(family, cara.id, HouseholdRole.ADMIN)
    await ann.set_role(family, other.user_id, HouseholdRole.VIEWER)
    forget_memberships(cara_ctx)
    await cara_side.set_role(family, other.user_id, HouseholdRole.MEMBER)
    with pytest.raises(SkillError, match="cara has changed bob since, so I left it as it is"):
        await undo_last(ctx)
    assert (await roles(ann, family))["bob@example.com"] is HouseholdRole.MEMBER

    # Once a housemate has changed the members, one who left is not let back in by undo.
    await bob.leave(family)
    await cara_side.leave(family)
    with pytest.raises(SkillError, match="cara has changed the members of Family since"):
        await undo_last(other)
    assert "bob@example.com" not in await roles(ann, family)


async def test_undo_of_a_change_to_members_keeps_the_rules_about_owners(
    ctx: SkillContext, other: SkillContext
) -> None:
    ann, bob, family = await family_with(ctx, other, HouseholdRole.OWNER)
    # Bob joined as an owner; Ann steps down. Bob's undo of joining would leave Family
    # without an owner, and Ann, now an admin, may not take back her own step down.
    await ann.set_role(family, ctx.user_id, HouseholdRole.ADMIN)
    forget_memberships(ctx)
    with pytest.raises(AccessDenied, match="only an owner can make or unmake an owner"):
        await undo_last(ctx)
    with pytest.raises(Conflict, match="you are its last owner"):
        await undo_last(other)
    assert await roles(ann, family) == {
        "ann@example.com": HouseholdRole.ADMIN,
        "bob@example.com": HouseholdRole.OWNER,
    }

    # Made an owner again by Bob, Ann removes him; undo brings him back an owner.
    await bob.set_role(family, ctx.user_id, HouseholdRole.OWNER)
    forget_memberships(ctx)
    await ann.remove(family, other.user_id)
    assert list(await roles(ann, family)) == ["ann@example.com"]
    assert (await undo_last(ctx)).action == "households.remove"
    forget_memberships(other)
    assert (await roles(bob, family))["bob@example.com"] is HouseholdRole.OWNER


async def test_undo_withdraws_an_invitation_and_deletes_a_household_nothing_uses(
    ctx: SkillContext, other: SkillContext, session: AsyncSession
) -> None:
    ann = HouseholdService(ctx)
    family = (await ann.create(HouseholdCreate(name="Family"))).id
    sent = await ann.invite(family, InvitationCreate(email="bob@example.com"))
    [recorded] = await session.exec(
        select(AuditEntry).where(AuditEntry.action == "households.invite")
    )
    assert "code_hash" not in str(recorded.meta)  # the log never holds a usable code's hash
    assert (await undo_last(ctx)).action == "households.invite"
    with pytest.raises(NotFound):  # withdrawn
        await HouseholdService(other).accept(sent.code)
    assert (await undo_last(ctx)).action == "households.create"
    assert await session.get(Household, family) is None
    assert [h.name for h in await ann.mine()] == ["ann's household"]

    # A household something has come to use stays (here a webhook for its changes).
    home = (await ann.create(HouseholdCreate(name="Home"))).id
    hook = WebhookSubscription(
        user_id=ctx.user_id, household_id=home, url="https://example.com/in", secret_sealed="x"
    )
    session.add(hook)
    with pytest.raises(Conflict, match="Home has webhook subscriptions now, so I left it"):
        await undo_last(ctx)
    await session.delete(hook)
    # So does an invitation once it has been used.
    sent = await ann.invite(home, InvitationCreate(email="bob@example.com"))
    await HouseholdService(other).accept(sent.code)
    with pytest.raises(Conflict, match="has joined with that invitation already"):
        await undo_last(ctx)
    [used] = await session.exec(select(Invitation).where(Invitation.household_id == home))
    assert used.accepted_by == other.user_id
