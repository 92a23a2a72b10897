"""The signed-in user's own account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from agent.api.deps import CurrentUser, SessionDep
from store.models.users import User, UserPublic, UserSettings

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
