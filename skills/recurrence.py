"""Recurrence rules (RFC 5545 RRULE): the one check every rule passes on its way in,
and bounded expansion.

Rules run over naive local times and are then placed in the zone, so "every Monday
at 9" stays 9:00 on both sides of a daylight-saving change.

Limits, and why:
- At most one occurrence an hour (no SECONDLY or MINUTELY, and no BYMINUTE/BYSECOND
  lists that multiply a rule into more). HOURLY stays: "every 4 hours" is a real
  reminder, and at 24 a day the widest range a query may ask for (366 days) holds
  at most 8,784 of one rule.
- INTERVAL and COUNT are whole numbers from 1; UNTIL must be a date.
- A rule that can never occur (February 30th) is refused: finding that out by
  expansion would step through every day until the year 9999.
- Expanding stops after a fixed amount of work per rule (see ``STEPS_PER_RULE``);
  a rule that needs more is reported, not followed.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, HOURLY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from skills.context import SkillError

ALLOWED = {"HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
MAX_PER_DAY = 24
MAX_NUMBER = 100_000  # for INTERVAL and COUNT: larger is a typo or an attack
STEPS_PER_RULE = 20_000  # occurrences one rule may step through for one query
STEPS_PER_REQUEST = 200_000  # all of one request's rules together (~0.2-0.5 s of work)
_NO_SETPOS = {"HOURLY", "DAILY"}  # BYSETPOS there picks among times of one day
_ONLY_WITH = {
    "BYWEEKNO": {"YEARLY"},
    "BYYEARDAY": {"HOURLY", "YEARLY"},
    "BYMONTHDAY": {"HOURLY", "DAILY", "MONTHLY", "YEARLY"},
}


class RuleTooCostly(SkillError):
    """A stored rule needs more work to expand than one request may spend."""


def _parts(body: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        name, sep, value = piece.partition("=")
        if not sep or not name.strip():
            raise SkillError(f"the recurrence rule part {piece!r} is not NAME=VALUE")
        parts[name.strip().upper()] = value.strip().upper()
    return parts


def _count(parts: dict[str, str], name: str) -> int:
    value = parts.get(name)
    return len(value.split(",")) if value else 1


def _whole(parts: dict[str, str], name: str) -> None:
    if name not in parts:
        return
    value = parts[name]
    if not value.isdigit() or not 1 <= int(value) <= MAX_NUMBER:
        raise SkillError(
            f"the recurrence rule's {name} must be a whole number from 1 to {MAX_NUMBER:,}, "
            f"not {value!r}"
        )


def _check_parts(parts: dict[str, str]) -> None:
    freq = parts.get("FREQ")
    if freq is None:
        raise SkillError("the recurrence rule has no FREQ")
    if freq in ("SECONDLY", "MINUTELY"):
        raise SkillError(
            f"an event can repeat at most once an hour: FREQ={freq} is not allowed "
            "(use HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY)"
        )
    if freq not in ALLOWED:
        raise SkillError(f"the recurrence rule is not valid: FREQ={freq} is not a frequency")
    _whole(parts, "INTERVAL")
    _whole(parts, "COUNT")
    per_hour = _count(parts, "BYMINUTE") * _count(parts, "BYSECOND")
    per_day = per_hour * (24 if freq == "HOURLY" else _count(parts, "BYHOUR"))
    if per_hour > 1 or per_day > MAX_PER_DAY:
        raise SkillError("an event can repeat at most once an hour: the rule asks for more")
    if freq in _NO_SETPOS and "BYSETPOS" in parts:
        raise SkillError(f"BYSETPOS is not supported with FREQ={freq}")
    # RFC 5545 allows these only with the frequencies named; elsewhere they can make
    # a rule that never occurs, found out only by stepping to the year 9999.
    for name, allowed in _ONLY_WITH.items():
        if name in parts and freq not in allowed:
            raise SkillError(f"{name} cannot be used with FREQ={freq} (RFC 5545)")


def _never_occurs(parts: dict[str, str]) -> bool:
    """True when the rule's months and month days never meet (February 30th)."""
    if "BYMONTHDAY" not in parts or "BYMONTH" not in parts:
        return False
    try:
        days = [int(d) for d in parts["BYMONTHDAY"].split(",")]
        months = [int(m) for m in parts["BYMONTH"].split(",")]
    except ValueError:
        return False  # dateutil names the problem
    longest = {m: calendar.monthrange(2024, m)[1] for m in range(1, 13)}  # a leap year
    return not any(abs(d) <= longest.get(m, 0) for d in days for m in months)


def _local_until(body: str, parts: dict[str, str], start: datetime) -> str:
    """RFC 5545 gives UNTIL in UTC ("...Z") when the start has a zone; rules run in
    naive local time here, so it becomes the same instant on the start's local clock."""
    until = parts.get("UNTIL", "")
    if not until.endswith("Z"):
        return body
    try:
        moment = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        local = moment.astimezone(start.tzinfo) if start.tzinfo else moment
    except (ValueError, OverflowError):
        return body  # dateutil names what is wrong with it
    pieces = [p for p in body.split(";") if not p.strip().upper().startswith("UNTIL=")]
    return ";".join([*pieces, f"UNTIL={local.strftime('%Y%m%dT%H%M%S')}"])


def parse_rule(text: str, start: datetime) -> rrule:
    """Validate an RRULE (with or without the "RRULE:" prefix) anchored at ``start``.
    Every rule, wherever it comes from, passes here before it is stored or expanded."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if not body:
        raise SkillError("the recurrence rule is empty")
    parts = _parts(body)
    _check_parts(parts)
    try:
        rule = rrulestr(_local_until(body, parts, start), dtstart=start.replace(tzinfo=None))
    except (ValueError, TypeError, OverflowError) as exc:
        raise SkillError(f"the recurrence rule {text!r} is not valid: {exc}") from exc
    if not isinstance(rule, rrule):
        raise SkillError("give one recurrence rule, not a set")
    if _never_occurs(parts):
        raise SkillError(f"the recurrence rule {text!r} never happens: no such day of the month")
    return rule


def normalize_rule(text: str, start: datetime) -> str:
    parse_rule(text, start)
    body = text.strip()
    return (body[len("RRULE:") :] if body.upper().startswith("RRULE:") else body).upper()


def next_after(text: str, start: datetime, after: datetime, tz: tzinfo) -> datetime | None:
    """The first occurrence strictly after ``after``, as an aware time in ``tz``."""
    local_start = start.astimezone(tz)
    rule = parse_rule(text, local_start)
    target = after.astimezone(tz).replace(tzinfo=None)
    for found in _walk(_moved_near(rule, target), target):
        if found > target:
            return found.replace(tzinfo=tz)
    return None


_STEP = {HOURLY: relativedelta(hours=1), DAILY: relativedelta(days=1)}
_STEP |= {WEEKLY: relativedelta(weeks=1), MONTHLY: relativedelta(months=1)}
_STEP |= {YEARLY: relativedelta(years=1)}
# Days a period lasts at most, so the periods counted never overshoot the target.
_APPROX = {HOURLY: 1 / 24, DAILY: 1, WEEKLY: 7, MONTHLY: 31, YEARLY: 366}


def _moved_near(rule: rrule, target: datetime) -> rrule:
    """The same rule started a whole number of periods later, just before ``target``,
    so expanding near ``target`` does not step through years of past occurrences.
    Only where the shift cannot change what the rule means: no COUNT (it counts from
    the real start), and for months and years only a start day every month has."""
    start = rule._dtstart  # dateutil keeps no public accessor
    freq, interval = rule._freq, rule._interval
    if rule._count is not None or target <= start:
        return rule
    if freq in (MONTHLY, YEARLY) and start.day > 28:
        return rule
    periods = int((target - start).days / (_APPROX[freq] * interval)) - 2
    if periods <= 0:
        return rule
    try:
        moved = start + _STEP[freq] * (periods * interval)
    except (OverflowError, ValueError):
        return rule
    return rule.replace(dtstart=moved) if moved < target else rule


class RequestTooCostly(SkillError):
    """All of one request's rules together need more work than it may spend."""


class Budget:
    """Steps one request may spend expanding all its rules together."""

    def __init__(self, steps: int = STEPS_PER_REQUEST) -> None:
        self.left = steps

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise RequestTooCostly(
                "the calendar has too many repeating events to expand at once: "
                "ask for a shorter range"
            )


def _walk(rule: rrule, until: datetime, budget: Budget | None = None) -> Iterator[datetime]:
    """The rule's occurrences up to the first one at or after ``until``, counting the
    work: a rule that needs more than ``STEPS_PER_RULE`` steps is refused, and all of
    a request's rules together may take ``budget``'s steps."""
    for steps, moment in enumerate(rule, start=1):
        if budget is not None:
            budget.spend()
        yield moment
        if moment >= until:
            return
        if steps >= STEPS_PER_RULE:
            raise RuleTooCostly("the repeating rule has too many occurrences to expand")


def occurrences(
    text: str,
    start: datetime,
    length: timedelta,
    window: tuple[datetime, datetime],
    budget: Budget | None = None,
) -> list[datetime]:
    """Naive local starts of the occurrences of ``text`` (anchored at ``start``, an
    aware time in the event's zone) that overlap the naive local ``window``."""
    rule = parse_rule(text, start)
    begin, end = window
    try:
        earliest = begin - length
    except OverflowError:
        earliest = datetime.min
    found = []
    for moment in _walk(_moved_near(rule, earliest), end, budget):
        if moment >= end:
            break
        if moment + length > begin or (not length and moment >= begin):
            found.append(moment)
    return found
