"""The signed-in user's own account."""

from __future__ import annotations

from fastapi import APIRouter

from agent.api.deps import CurrentUser
from store.models.users import UserPublic, UserSettings

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
