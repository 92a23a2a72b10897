"""Finding good free time: working hours minus busy time (with a buffer), ranked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from skills.calendar.schemas import FreeSlot, Preference
from store.models.users import WorkingHours

STEP = timedelta(minutes=15)
_PREFERRED_HOURS = {
    Preference.MORNING: (0, 12),
    Preference.AFTERNOON: (12, 17),
    Preference.EVENING: (17, 24),
}


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime


def working_windows(
    start: datetime, end: datetime, hours: WorkingHours, tz: tzinfo
) -> list[Interval]:
    """The user's working hours on each working day inside [start, end), in their zone.
    Built from local wall-clock times, so they hold across DST changes."""
    windows = []
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        if day.weekday() in hours.days:
            open_at = datetime.combine(day, hours.start, tzinfo=tz)
            close_at = datetime.combine(day, hours.end, tzinfo=tz)
            window = Interval(max(open_at, start), min(close_at, end))
            if window.end > window.start:
                windows.append(window)
        day += timedelta(days=1)
    return windows


def subtract(window: Interval, busy: Iterable[Interval]) -> list[Interval]:
    free = [window]
    for block in busy:
        next_free = []
        for gap in free:
            if block.end <= gap.start or block.start >= gap.end:
                next_free.append(gap)
                continue
            if block.start > gap.start:
                next_free.append(Interval(gap.start, block.start))
            if block.end < gap.end:
                next_free.append(Interval(block.end, gap.end))
        free = next_free
    return free


def _round_up(moment: datetime) -> datetime:
    local = moment.replace(second=0, microsecond=0)
    if local < moment:
        local += timedelta(minutes=1)
    extra = (-local.minute) % 15
    return local + timedelta(minutes=extra)


def _score(
    start: datetime,
    gap: Interval,
    duration: timedelta,
    prefer: Preference | None,
    first_day: datetime,
    tz: tzinfo,
) -> float:
    local = start.astimezone(tz)
    score = 100.0
    if prefer is not None:
        low, high = _PREFERRED_HOURS[prefer]
        score += 30 if low <= local.hour < high else -20
    score -= 3 * (local.date() - first_day.astimezone(tz).date()).days  # sooner is better
    if start == gap.start or start + duration == gap.end:
        score += 10  # fits snugly beside other commitments: keeps long blocks whole
    return score


def rank_slots(
    windows: list[Interval],
    busy: list[Interval],
    duration: timedelta,
    buffer: timedelta,
    prefer: Preference | None,
    limit: int,
    tz: tzinfo,
    per_day: int = 3,
) -> list[FreeSlot]:
    """The best ``limit`` slots that do not overlap each other, at most ``per_day`` a
    day, so the options offered are real alternatives."""
    padded = [Interval(b.start - buffer, b.end + buffer) for b in busy]
    candidates: list[tuple[float, datetime]] = []
    for window in windows:
        for gap in subtract(window, padded):
            start = _round_up(gap.start)
            while start + duration <= gap.end:
                score = _score(start, gap, duration, prefer, windows[0].start, tz)
                candidates.append((score, start))
                start += STEP
    candidates.sort(key=lambda c: (-c[0], c[1]))
    chosen: list[datetime] = []
    for _score_value, start in candidates:
        day = start.astimezone(tz).date()
        if sum(1 for c in chosen if c.astimezone(tz).date() == day) >= per_day:
            continue
        if any(abs(start - c) < duration for c in chosen):
            continue
        chosen.append(start)
        if len(chosen) == limit:
            break
    scores = {start: score for score, start in candidates}
    return [
        FreeSlot(
            start_at=start.astimezone(UTC),
            end_at=(start + duration).astimezone(UTC),
            score=scores[start],
        )
        for start in chosen
    ]
