"""/v1/undo: take back the last change, whatever channel made it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from agent.api.deps import SkillCtx
from skills.history import undo_last

router = APIRouter(prefix="/v1", tags=["history"])


class UndoResult(BaseModel):
    undid: str
    facts: dict[str, Any]


@router.post("/undo", response_model=UndoResult, summary="Undo the last change")
async def undo(ctx: SkillCtx) -> UndoResult:
    undone = await undo_last(ctx)
    return UndoResult(undid=undone.action, facts=undone.facts)
