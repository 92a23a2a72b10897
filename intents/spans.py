"""Reading the grammar's spans: as the user wrote them, without their article, with
a time split off their end, and times as the ISO strings slots carry."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from intents.model import UserContext
from intents.temporal import When, as_window, find_when, part_window


def cased(span: str, meta: dict[str, Any]) -> str:
    """``span`` as the user wrote it: the grammar sees lower case, people see names."""
    original = str(meta.get("_text", ""))
    words = span.split()
    if not words:
        return span
    # The grammar saw the words without their commas ("eggs, bread and milk"): keep them.
    found = re.search(
        r"\b" + r"[\s,;]+".join(re.escape(w) for w in words) + r"(?!\w)", original, re.IGNORECASE
    )
    return found.group(0) if found else span


def iso(moment: datetime) -> str:
    """To the minute, as people say times; to the second for a moment counted from
    now ("in two minutes"), which cut to the minute could come a minute early."""
    return moment.isoformat(timespec="seconds" if moment.second else "minutes")


def strip_article(text: str) -> str:
    return re.sub(r"^(?:a|an|the|my|our)\s+", "", text.strip()).strip()


def split_when(text: str, ctx: UserContext, *, past: bool = False) -> tuple[str, When | None]:
    found = find_when(text, ctx.now, prefer_past=past)
    return (found[0], found[1]) if found else (text.strip(), None)


def window(when: When | None, ctx: UserContext, default_days: int = 1) -> tuple[datetime, datetime]:
    if when is None:
        start = ctx.now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=default_days)
    if when.part and when.end is None:
        return part_window(when.start.date(), when.part, when.start.tzinfo)
    return as_window(when)
