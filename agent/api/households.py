"""/v1/households and /v1/invitations: households, their members and roles.

Every rule is in skills (access and households); these routes only carry it.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Request, status
from starlette.requests import HTTPConnection

from agent.api.deps import ServicesDep, SkillCtx
from agent.outbox import Unavailable, Undelivered
from agent.services import Services
from skills.context import SkillContext
from skills.households import (
    HouseholdCreate,
    HouseholdPublic,
    HouseholdService,
    InvitationAccept,
    InvitationCreate,
    InvitationPublic,
    MemberPublic,
    RoleChange,
    withdraw,
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
    ctx: SkillCtx,
    household_id: uuid.UUID,
    body: InvitationCreate,
    request: Request,
    services: ServicesDep,
) -> InvitationPublic:
    """Sent to the address by email or SMS with a link to accept it (``send: false``:
    only shown here). Nothing is kept when it cannot be sent."""
    return await make_invitation(ctx, services, request, household_id, body)


async def make_invitation(
    ctx: SkillContext,
    services: Services,
    connection: HTTPConnection,
    household_id: uuid.UUID,
    body: InvitationCreate,
) -> InvitationPublic:
    """Invite, and send the code unless ``body.send`` is false. A sent invitation is
    committed before it goes out, with everything done before it on ``ctx``'s session;
    one that cannot be delivered is withdrawn (503 no channel, 502 refused)."""
    outbox = services.outbox()
    address = body.email or body.phone
    assert address is not None
    if body.send:
        try:
            outbox.check(address)
        except Unavailable as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    made = await HouseholdService(ctx).invite(household_id, body)
    if not body.send:
        return made
    base = services.settings.public_url or str(connection.base_url).rstrip("/")
    text = (
        f"{ctx.display_name} invited you to their household on Life OS. Your code is "
        f"{made.code}; accept it at {base}/#invite={made.code} (it works once, for 7 days)."
    )
    # On record before it can arrive; and no write held open while Twilio is asked
    # (its opt-out check reads the database, which SQLite would make wait for us).
    await ctx.session.commit()
    try:
        made.sent_by = await outbox.send(address, "An invitation to Life OS", text)
    except Undelivered as exc:
        await withdraw(ctx.session, made.code)  # a code nobody received is no invitation
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY, "the invitation could not be sent"
        ) from exc
    return made


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
