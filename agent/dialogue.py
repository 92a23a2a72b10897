"""Conversation state that outlives a request: what the assistant is waiting for
(a missing detail, a yes or no) and what was last talked about ("move it").

It is kept with the assistant's turn in the conversation log, so a conversation
continues across requests, processes and channels (a web session, an SMS thread).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import ConversationTurn

STATE_TTL = timedelta(minutes=15)  # a question left unanswered longer is forgotten


@dataclass
class DialogueState:
    pending: dict[str, Any] | None = None  # action, slots, awaiting: slot name | "confirmation"
    last: dict[str, Any] | None = None  # kind (task, event, transaction), id, title, start_at
    history: list[tuple[str, str]] = field(default_factory=list)


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
    saved = latest.intent.get("state") or {}
    return DialogueState(saved.get("pending"), saved.get("last"), history)


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
    kept = {"pending": state.pending, "last": state.last}
    session.add(
        ConversationTurn(
            user_id=user_id,
            session_id=session_id,
            channel=channel,
            role="user",
            text=heard,
            intent=intent,
            created_at=now,
        )
    )
    session.add(
        ConversationTurn(
            user_id=user_id,
            session_id=session_id,
            channel=channel,
            role="assistant",
            text=said,
            intent={"state": kept},
            created_at=now + timedelta(microseconds=1),
        )
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


def as_dict(state: DialogueState) -> dict[str, Any]:
    return asdict(state)
