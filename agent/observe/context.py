"""The ids a log line carries: which request, conversation, voice turn and user it
belongs to. Context variables, so each request's task (and the tasks it starts,
which copy its context) sees its own; nothing here says what a user wrote."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
session_id: ContextVar[str | None] = ContextVar("session_id", default=None)
turn_id: ContextVar[str | None] = ContextVar("turn_id", default=None)
user_id: ContextVar[str | None] = ContextVar("user_id", default=None)

FIELDS: dict[str, ContextVar[str | None]] = {
    "request_id": request_id,
    "session_id": session_id,
    "turn_id": turn_id,
    "user_id": user_id,
}


def bind_user(user: uuid.UUID) -> None:
    user_id.set(str(user))


def current() -> dict[str, str]:
    """The ids set in this context, by field name."""
    return {name: value for name, var in FIELDS.items() if (value := var.get()) is not None}
