"""POST /v1/livekit/token: a LiveKit room token for the signed-in user."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from agent.api.deps import CurrentUser, ServicesDep
from agent.rooms import DEFAULT_ROOM, ROOM_NAME, LiveKitNotConfigured, room_token

router = APIRouter(prefix="/v1/livekit", tags=["voice"])


class RoomRequest(BaseModel):
    room: str = Field(
        default=DEFAULT_ROOM,
        pattern=ROOM_NAME.pattern,
        description="Which of your rooms (a device's place: home, kitchen): 1-32 of a-z 0-9 _ -",
    )


class RoomTokenPublic(BaseModel):
    url: str = Field(description="The LiveKit server to connect to")
    room: str
    identity: str
    token: str = Field(description="Join the room with it; our agent is dispatched to the room")
    expires_at: datetime


@router.post(
    "/token",
    response_model=RoomTokenPublic,
    summary="A LiveKit room token: talk to the assistant through LiveKit",
    responses={503: {"description": "LiveKit is not set up on this service"}},
)
async def livekit_token(
    user: CurrentUser, services: ServicesDep, request: RoomRequest | None = None
) -> RoomTokenPublic:
    name = request.room if request is not None else DEFAULT_ROOM
    try:
        minted = room_token(services.settings, services.tokens, user.id, name)
    except LiveKitNotConfigured:
        raise HTTPException(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="LiveKit is not configured on this service "
            "(LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET)",
        ) from None
    return RoomTokenPublic(
        url=minted.url,
        room=minted.room,
        identity=minted.identity,
        token=minted.token,
        expires_at=minted.expires_at,
    )
