"""The signed-in user's own account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from agent.api.deps import CurrentUser, ServicesDep, SessionDep
from store.models.users import User, UserPublic, UserSettings
from telephony.pins import PinError, Pins

router = APIRouter(prefix="/v1/me", tags=["account"])


@router.get("", response_model=UserPublic, summary="The signed-in user")
async def read_me(user: CurrentUser) -> UserPublic:
    return UserPublic(
        id=user.id,
        email=user.email,
        phone=user.phone,
        name=user.name,
        settings=UserSettings.model_validate(user.settings),
        is_owner=user.is_owner,
        created_at=user.created_at,
    )


@router.patch("/settings", response_model=UserSettings, summary="Change your settings")
async def update_settings(
    user: CurrentUser, session: SessionDep, changes: dict[str, Any]
) -> UserSettings:
    """Only the settings sent change, e.g. ``{"reminder_channels": ["web", "sms"],
    "event_alert_minutes": 15}``; every value is checked before anything is stored."""
    try:
        merged = UserSettings.model_validate({**user.settings, **changes})
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    row = await session.get(User, user.id)
    assert row is not None
    row.settings = merged.model_dump(mode="json")
    session.add(row)
    return merged


class PhonePinUpdate(BaseModel):
    pin: str = Field(description="4 to 8 digits, asked before money is touched by phone or text")


@router.put(
    "/phone-pin",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set the PIN asked on calls and texts before money is touched",
)
async def set_phone_pin(body: PhonePinUpdate, user: CurrentUser, services: ServicesDep) -> None:
    try:
        await Pins(services.sessions).set(user.id, body.pin)
    except PinError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
