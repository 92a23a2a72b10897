"""Every occurrence of a user's events in a window, repeating events expanded with a
bound on the work: it runs in a worker thread, each rule may step through at most
``skills.recurrence.STEPS_PER_RULE`` occurrences, and one window holds at most
``MAX_OCCURRENCES``. A stored rule that fails the checks (one saved before they
existed) is skipped and reported instead of failing the whole calendar."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skills.context import SkillError
from skills.recurrence import Budget, RequestTooCostly
from skills.recurrence import occurrences as rule_occurrences
from store.models import Event

log = logging.getLogger(__name__)

MAX_OCCURRENCES = 10_000
_MARGIN = timedelta(days=1)  # local wall-clock window around the UTC one: zone offsets


@dataclass(frozen=True)
class Occurrence:
    event: Event
    start_at: datetime
    end_at: datetime


@dataclass
class Expansion:
    occurrences: list[Occurrence] = field(default_factory=list)
    skipped: list[tuple[Event, str]] = field(default_factory=list)  # with why


@dataclass(frozen=True)
class _Series:
    """What expansion reads of an event: plain values, safe to hand to a thread."""

    id: uuid.UUID
    start_at: datetime
    end_at: datetime
    timezone: str
    recurrence: str
    exdates: tuple[str, ...]


def _starts(
    series: _Series, start: datetime, end: datetime, budget: Budget
) -> list[tuple[datetime, datetime]]:
    try:
        zone = ZoneInfo(series.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SkillError(f"the event's time zone {series.timezone!r} is unknown") from exc
    local_start = series.start_at.astimezone(zone)
    length = series.end_at.astimezone(zone).replace(tzinfo=None) - local_start.replace(tzinfo=None)
    try:
        window = (
            start.astimezone(zone).replace(tzinfo=None) - _MARGIN,
            end.astimezone(zone).replace(tzinfo=None) + _MARGIN,
        )
    except OverflowError:
        window = (datetime.min, datetime.max)
    cancelled = set()
    for stamp in series.exdates:
        try:
            cancelled.add(datetime.fromisoformat(stamp).astimezone(UTC))
        except ValueError:
            continue  # an unreadable cancellation cancels nothing
    found = []
    for moment in rule_occurrences(series.recurrence, local_start, length, window, budget):
        begin = moment.replace(tzinfo=zone).astimezone(UTC)
        finish = (moment + length).replace(tzinfo=zone).astimezone(UTC)
        if begin not in cancelled and _overlaps(begin, finish, start, end):
            found.append((begin, finish))
            # A wall-clock time skipped by a DST change lands on the next hour:
            # an hourly rule would otherwise show that instant twice.
            cancelled.add(begin)
    return found


def _overlaps(begin: datetime, finish: datetime, start: datetime, end: datetime) -> bool:
    if begin == finish:
        return start <= begin < end
    return begin < end and finish > start


def _expand_sync(
    events: list[Event], series: list[_Series], start: datetime, end: datetime
) -> Expansion:
    result = Expansion()
    by_id = {event.id: event for event in events}
    budget = Budget()
    for item in series:
        event = by_id[item.id]
        try:
            spans = _starts(item, start, end, budget)
        except RequestTooCostly:
            raise  # the request as a whole, not this one event
        except SkillError as exc:  # a stored rule that fails the checks, or costs too much
            result.skipped.append((event, str(exc)))
            continue
        result.occurrences.extend(Occurrence(event, b, f) for b, f in spans)
        if len(result.occurrences) > MAX_OCCURRENCES:
            raise SkillError(
                f"that range holds more than {MAX_OCCURRENCES:,} occurrences: ask for a shorter one"
            )
    return result


async def expand(events: list[Event], start: datetime, end: datetime) -> Expansion:
    """Every occurrence of ``events`` that overlaps [start, end), sorted by start."""
    result = Expansion()
    series = []
    for event in events:
        if event.recurrence:
            series.append(
                _Series(
                    event.id,
                    event.start_at,
                    event.end_at,
                    event.timezone,
                    event.recurrence,
                    tuple(event.exdates or ()),
                )
            )
        elif _overlaps(event.start_at, event.end_at, start, end):
            result.occurrences.append(Occurrence(event, event.start_at, event.end_at))
    if series:
        # Off the event loop: even bounded, a year of hourly rules is real work.
        repeated = await asyncio.to_thread(_expand_sync, events, series, start, end)
        result.occurrences.extend(repeated.occurrences)
        result.skipped = repeated.skipped
    if len(result.occurrences) > MAX_OCCURRENCES:
        raise SkillError(
            f"that range holds more than {MAX_OCCURRENCES:,} occurrences: ask for a shorter one"
        )
    for event, _reason in result.skipped:
        log.warning("event %s skipped: its repeating rule cannot be expanded", event.id)
    result.occurrences.sort(key=lambda o: (o.start_at, o.end_at, o.event.title))
    return result
