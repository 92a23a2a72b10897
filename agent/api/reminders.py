"""/v1/reminders: what the scheduler delivered, missed or could not deliver."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agent.api.deps import SkillCtx
from skills.reminders.service import ReminderPublic, ReminderService
from store.models import ReminderStatus

router = APIRouter(prefix="/v1/reminders", tags=["reminders"])


@router.get("", response_model=list[ReminderPublic], summary="Reminders and their deliveries")
async def list_reminders(
    ctx: SkillCtx,
    status: ReminderStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReminderPublic]:
    """Newest first, each with its delivery attempts (when, channel, result, error);
    ``status=missed`` or ``status=unreached`` lists those that did not reach you."""
    return await ReminderService(ctx).search(status, limit)
