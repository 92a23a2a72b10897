"""Changing households: the same service calls as /v1/households and
/v1/invitations, so the same rules (owners and admins invite and manage; only an
owner makes or unmakes an owner; the last owner stays)."""

from __future__ import annotations

import uuid

import strawberry
from graphql import FieldNode

from agent.api.households import make_invitation
from agent.graphql import types as t
from agent.graphql.context import Info
from skills.context import SkillError
from skills.households import HouseholdCreate, HouseholdService, InvitationAccept, RoleChange
from store.models import HouseholdRole


def _alone(info: Info) -> bool:
    """Whether this field is all its operation asks."""
    selections = info.operation.selection_set.selections
    return len(selections) == 1 and isinstance(selections[0], FieldNode)


@strawberry.type
class HouseholdMutations:
    @strawberry.mutation(description="A new household, you its owner")
    async def create_household(self, info: Info, name: str) -> t.Household:
        async with info.context.work() as ctx:
            made = await HouseholdService(ctx).create(HouseholdCreate(name=name))
            return t.Household.from_pydantic(made)

    @strawberry.mutation(
        description="Invite an email address or phone number; the code is sent to it "
        "(send: false: only shown here). A sent invitation goes in an operation of its own."
    )
    async def invite(
        self, info: Info, household_id: uuid.UUID, input: t.InvitationInput
    ) -> t.Invitation:
        data = input.to_pydantic()
        if data.send and not _alone(info):
            # It is committed before it goes out, which would keep the rest of the
            # operation whatever happened to it afterwards.
            raise SkillError("send an invitation in an operation of its own")
        async with info.context.work() as ctx:
            connection = info.context.request
            made = await make_invitation(ctx, info.context.services, connection, household_id, data)
            return t.Invitation.from_pydantic(made)

    @strawberry.mutation(description="Join a household with a code sent to you")
    async def accept_invitation(self, info: Info, code: str) -> t.Household:
        async with info.context.work() as ctx:
            joined = await HouseholdService(ctx).accept(InvitationAccept(code=code).code)
            return t.Household.from_pydantic(joined)

    @strawberry.mutation(description="Change a member's role")
    async def change_role(
        self, info: Info, household_id: uuid.UUID, user_id: uuid.UUID, role: HouseholdRole
    ) -> t.Member:
        async with info.context.work() as ctx:
            service = HouseholdService(ctx)
            changed = await service.set_role(household_id, user_id, RoleChange(role=role).role)
            return t.Member.from_pydantic(changed)

    @strawberry.mutation(description="Remove a member (your own id: leave); returns their id")
    async def remove_member(
        self, info: Info, household_id: uuid.UUID, user_id: uuid.UUID
    ) -> uuid.UUID:
        async with info.context.work() as ctx:
            await HouseholdService(ctx).remove(household_id, user_id)
            return user_id

    @strawberry.mutation(description="Leave a household (its last owner cannot); returns its id")
    async def leave_household(self, info: Info, household_id: uuid.UUID) -> uuid.UUID:
        async with info.context.work() as ctx:
            await HouseholdService(ctx).leave(household_id)
            return household_id
