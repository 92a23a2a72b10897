"""Conversation state that outlives a request: what the assistant is waiting for
(a missing detail, a yes or no) and what was last talked about ("move it").

It is kept with the assistant's turn in the conversation log, so a conversation
continues across requests, processes and channels (a web session, an SMS thread).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import ConversationTurn

STATE_TTL = timedelta(minutes=15)  # a question left unanswered longer is forgotten


CONFIRMATION = "confirmation"  # a yes before a destructive, bulk or money-moving action
CHECK = "check"  # a yes before acting on a guess


class Pending(BaseModel):
    """An action waiting for the user: for a missing detail (``awaiting`` names it),
    or for a yes (``CONFIRMATION``, ``CHECK``)."""

    action: str
    slots: dict[str, Any]
    awaiting: str
    # A guess stays a guess once its missing detail is given.
    source: str = "rules"
    tentative: bool = False

    @property
    def wants_yes(self) -> bool:
        return self.awaiting in (CONFIRMATION, CHECK)


class Last(BaseModel):
    """What was last talked about, for "move it", "delete that"."""

    kind: Literal["task", "event", "transaction"]
    id: str
    title: str | None = None
    start_at: str | None = None


class Saved(BaseModel):
    """The state as kept with the assistant's turn. ``reminder`` is the reminder just
    delivered into this conversation: "snooze ten minutes" applies to it."""

    pending: Pending | None = None
    last: Last | None = None
    reminder: str | None = None


class DialogueState(Saved):
    history: list[tuple[str, str]] = Field(default_factory=list)


async def load_state(
    session: AsyncSession, user_id: uuid.UUID, session_id: str, now: datetime
) -> DialogueState:
    rows = list(
        await session.exec(
            select(ConversationTurn)
            .where(ConversationTurn.user_id == user_id, ConversationTurn.session_id == session_id)
            .order_by(col(ConversationTurn.created_at).desc())
            .limit(8)
        )
    )
    history = [(row.role, row.text) for row in reversed(rows)]
    latest = next((row for row in rows if row.role == "assistant"), None)
    if latest is None or now - latest.created_at > STATE_TTL:
        return DialogueState(history=history)
    try:
        saved = Saved.model_validate(latest.intent.get("state") or {})
    except ValidationError:  # kept by an older version in another shape: start afresh
        return DialogueState(history=history)
    return DialogueState(
        pending=saved.pending, last=saved.last, reminder=saved.reminder, history=history
    )


def save_turns(
    session: AsyncSession,
    user_id: uuid.UUID,
    session_id: str,
    channel: str,
    heard: str,
    said: str,
    intent: dict[str, Any],
    state: DialogueState,
    now: datetime,
) -> None:
    # A delivered reminder applies to the one turn after it; this turn was that one.
    kept = Saved(pending=state.pending, last=state.last).model_dump(mode="json")
    after = now + timedelta(microseconds=1)
    session.add(_turn(user_id, session_id, channel, "user", heard, intent, now))
    session.add(_turn(user_id, session_id, channel, "assistant", said, {"state": kept}, after))


def save_notice(
    session: AsyncSession,
    user_id: uuid.UUID,
    session_id: str,
    channel: str,
    said: str,
    state: Saved,
    now: datetime,
) -> None:
    """Something the service said unasked (a reminder), kept as the conversation's
    latest turn with ``state``, so the user's answer ("done") applies to it."""
    kept = {"state": state.model_dump(mode="json"), "unasked": True}
    session.add(_turn(user_id, session_id, channel, "assistant", said, kept, now))


def _turn(
    user_id: uuid.UUID,
    session_id: str,
    channel: str,
    role: str,
    text: str,
    intent: dict[str, Any],
    at: datetime,
) -> ConversationTurn:
    """One turn of the log; an assistant's carries the conversation's state."""
    return ConversationTurn(
        user_id=user_id,
        session_id=session_id,
        channel=channel,
        role=role,
        text=text,
        intent=intent,
        created_at=at,
    )


async def cut_short_reply(
    session: AsyncSession, user_id: uuid.UUID, session_id: str, heard: str
) -> None:
    """Keep in the history only the part of the last reply the user heard before
    talking over it: what they never heard was not said."""
    latest = (
        await session.exec(
            select(ConversationTurn)
            .where(
                ConversationTurn.user_id == user_id,
                ConversationTurn.session_id == session_id,
                ConversationTurn.role == "assistant",
            )
            .order_by(col(ConversationTurn.created_at).desc())
            .limit(1)
        )
    ).first()
    if latest is not None:
        latest.text = heard
        latest.intent = {**latest.intent, "interrupted": True}
        session.add(latest)
