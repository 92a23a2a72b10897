"""Reading one of the user's own rows, starting rows two requests may start at once,
and matching text in queries."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from skills.context import NotFound, SkillContext

Row = TypeVar("Row")


async def owned(ctx: SkillContext, model: type[Row], record_id: Any, noun: str) -> Row:
    """The row with this id if it is the user's; otherwise NotFound, the same answer
    as for an id that does not exist, so another user's ids reveal nothing."""
    try:
        key = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        raise NotFound(f"no such {noun}") from None
    found = await ctx.session.get(model, key)
    if found is None or getattr(found, "user_id", None) != ctx.user_id:
        raise NotFound(f"no such {noun}")
    return found


async def add_unless_taken(ctx: SkillContext, *rows: Any) -> bool:
    """Insert rows keyed by a unique name that a simultaneous request may be inserting
    too (a user's first list, category set or project). False when the other got there
    first: its rows are committed and a fresh read finds them. On PostgreSQL the second
    INSERT waits for the first transaction and then fails on the key; on SQLite writers
    already queue, so this never loses there."""
    try:
        async with ctx.session.begin_nested():
            ctx.session.add_all(rows)
    except IntegrityError:
        return False
    return True


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % and _ taken literally
    (use with escape="\\\\")."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
