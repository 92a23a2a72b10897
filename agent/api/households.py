"""/v1/households and /v1/invitations: households, their members and roles.

Every rule is in skills (access and households); these routes only carry it.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from agent.api.deps import SkillCtx
from skills.households import (
    HouseholdCreate,
    HouseholdPublic,
    HouseholdService,
    InvitationAccept,
    InvitationCreate,
    InvitationPublic,
    MemberPublic,
    RoleChange,
)

router = APIRouter(prefix="/v1", tags=["households"])


@router.get("/households", response_model=list[HouseholdPublic], summary="Yours, with your role")
async def read_households(ctx: SkillCtx) -> list[HouseholdPublic]:
    return await HouseholdService(ctx).mine()


@router.post("/households", response_model=HouseholdPublic, status_code=status.HTTP_201_CREATED)
async def create_household(ctx: SkillCtx, body: HouseholdCreate) -> HouseholdPublic:
    return await HouseholdService(ctx).create(body)


@router.post(
    "/households/{household_id}/invitations",
    response_model=InvitationPublic,
    status_code=status.HTTP_201_CREATED,
    summary="A single-use code for one email address or phone number, shown once",
)
async def invite(
    ctx: SkillCtx, household_id: uuid.UUID, body: InvitationCreate
) -> InvitationPublic:
    return await HouseholdService(ctx).invite(household_id, body)


@router.post("/invitations/accept", response_model=HouseholdPublic, summary="Join with a code")
async def accept(ctx: SkillCtx, body: InvitationAccept) -> HouseholdPublic:
    return await HouseholdService(ctx).accept(body.code)


@router.get("/households/{household_id}/members", response_model=list[MemberPublic])
async def read_members(ctx: SkillCtx, household_id: uuid.UUID) -> list[MemberPublic]:
    return await HouseholdService(ctx).members(household_id)


@router.patch("/households/{household_id}/members/{user_id}", response_model=MemberPublic)
async def change_role(
    ctx: SkillCtx, household_id: uuid.UUID, user_id: uuid.UUID, body: RoleChange
) -> MemberPublic:
    return await HouseholdService(ctx).set_role(household_id, user_id, body.role)


@router.delete(
    "/households/{household_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member (your own id: leave)",
)
async def remove_member(ctx: SkillCtx, household_id: uuid.UUID, user_id: uuid.UUID) -> None:
    await HouseholdService(ctx).remove(household_id, user_id)


@router.post(
    "/households/{household_id}/leave",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Leave; the last owner cannot",
)
async def leave(ctx: SkillCtx, household_id: uuid.UUID) -> None:
    await HouseholdService(ctx).leave(household_id)
