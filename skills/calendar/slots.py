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
) -> list[FreeSlot]:
    """The best ``limit`` slots, at most one per free gap so the options differ."""
    padded = [Interval(b.start - buffer, b.end + buffer) for b in busy]
    options = []
    for window in windows:
        for gap in subtract(window, padded):
            best: tuple[float, datetime] | None = None
            start = _round_up(gap.start)
            while start + duration <= gap.end:
                score = _score(start, gap, duration, prefer, windows[0].start, tz)
                if best is None or score > best[0]:
                    best = (score, start)
                start += STEP
            if best is not None:
                options.append(
                    FreeSlot(
                        start_at=best[1].astimezone(UTC),
                        end_at=(best[1] + duration).astimezone(UTC),
                        score=best[0],
                    )
                )
    options.sort(key=lambda slot: (-slot.score, slot.start_at))
    return options[:limit]
