"""Recurrence rules (RFC 5545 RRULE) evaluated in local wall-clock time.

Rules run over naive local times and are then placed in the zone, so "every Monday
at 9" stays 9:00 on both sides of a daylight-saving change.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from dateutil.rrule import rrule, rrulestr

from skills.context import SkillError


def parse_rule(text: str, start: datetime) -> rrule:
    """Validate an RRULE (with or without the "RRULE:" prefix) anchored at ``start``."""
    body = text.strip().removeprefix("RRULE:")
    if not body:
        raise SkillError("the recurrence rule is empty")
    try:
        rule = rrulestr(body, dtstart=start.replace(tzinfo=None))
    except (ValueError, TypeError) as exc:
        raise SkillError(f"the recurrence rule {text!r} is not valid: {exc}") from exc
    if not isinstance(rule, rrule):
        raise SkillError("give one recurrence rule, not a set")
    return rule


def normalize_rule(text: str, start: datetime) -> str:
    parse_rule(text, start)
    return text.strip().removeprefix("RRULE:").upper()


def next_after(text: str, start: datetime, after: datetime, tz: tzinfo) -> datetime | None:
    """The first occurrence strictly after ``after``, as an aware time in ``tz``."""
    local_start = start.astimezone(tz)
    rule = parse_rule(text, local_start)
    found = rule.after(after.astimezone(tz).replace(tzinfo=None))
    return found.replace(tzinfo=tz) if found else None
