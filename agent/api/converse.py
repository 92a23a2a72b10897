"""/v1/converse: talk to the assistant in text."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agent import scopes
from agent.api.deps import CurrentUser, ServicesDep, TokenClaimsDep
from agent.dialogue.assistant import Turn
from agent.observe import context

router = APIRouter(prefix="/v1", tags=["conversation"])


class ConverseRequest(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    session_id: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")


class IntentPublic(BaseModel):
    name: str
    slots: dict[str, Any]
    confidence: float
    source: Literal["rules", "model", "llm"]


class ConverseResponse(BaseModel):
    session_id: str
    reply: str
    intent: IntentPublic
    needs: str | None = Field(
        description='null, "confirmation", "check" (a yes before a guess acts) or "slot:<name>"'
    )


@router.post("/converse", response_model=ConverseResponse, summary="One turn of conversation")
async def converse(
    body: ConverseRequest, user: CurrentUser, claims: TokenClaimsDep, services: ServicesDep
) -> ConverseResponse:
    assert services.assistant is not None
    context.session_id.set(body.session_id)
    reply = await services.assistant.converse(
        Turn(
            text=body.text,
            user_id=user.id,
            session_id=body.session_id,
            channel="api",
            reach=scopes.reach(claims.scopes),  # a speaker's token: no money
        )
    )
    context.session_id.set(reply.session_id)  # a new conversation's id, for the access line
    intent = reply.intent
    name = intent.action if not intent.action.startswith("reference.") else "out_of_scope"
    return ConverseResponse(
        session_id=reply.session_id,
        reply=reply.text,
        needs=reply.needs,
        intent=IntentPublic(
            name=name, slots=intent.slots, confidence=intent.confidence, source=intent.source
        ),  # type: ignore[arg-type]
    )
