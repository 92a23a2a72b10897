"""When things happen, as people say it, resolved in the user's time zone.

dateparser alone gets common assistant phrases wrong ("next Tuesday at 10" gives
nothing, "Tuesday at 10" a date in the past), so this layer has its own small
grammar: a phrase is read as parts — a day, a time of day, a part of the day, a
range, a duration, a repetition — each found by a pattern, and the parts are then
combined with explicit rules. Everything is computed in local wall-clock time and
only then placed in the zone, so it holds across daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from intents.numbers import digits_for_words

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
RRULE_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
# Part of the day: the time a reminder gets, and the window a question means.
PARTS = {
    "morning": (time(9), time(6), time(12)),
    "afternoon": (time(14), time(12), time(17)),
    "evening": (time(18), time(17), time(21)),
    "night": (time(20), time(20), time(23, 59)),
    "tonight": (time(20), time(17), time(23, 59)),
}
DEFAULT_LENGTH = timedelta(hours=1)

_WD = "|".join(WEEKDAYS)
_MONTH = "|".join(MONTHS + sorted(MONTH_ABBR, key=len, reverse=True))
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"
_UNIT = r"(minute|min|hour|hr|day|week|month|year)s?"
_N = r"(\d+(?:\.\d+)?|an?|half an?|a couple of|a few)"
_TIME = (
    r"(?:(noon|midday|midnight)|(\d{1,2})(?:(?::|\s)(\d{2}))?\s?(am|pm|a\.m\.|p\.m\.)"
    r"|(\d{1,2}):(\d{2})|(\d{1,2})\s(\d{2})(?=\s|$)|(\d{1,2})\so'?clock"
    r"|half past (\d{1,2})|quarter past (\d{1,2})|quarter to (\d{1,2}))"
)


# A time, or a bare hour where a range makes it a time ("from 2 to 3:30").
_SPOT = rf"(?:{_TIME}|(\d{{1,2}})(?![\d:]))"


@dataclass(frozen=True)
class When:
    """A resolved time. ``start`` is aware, in the user's zone. Without ``has_time``
    it names whole days (``start`` is their first midnight). ``end`` is set for
    ranges and durations; ``rrule`` for repetitions, which start at ``start``."""

    start: datetime
    end: datetime | None = None
    has_time: bool = True
    rrule: str | None = None
    duration: timedelta | None = None
    text: str = ""
    part: str | None = None  # "evening" in "Friday evening": a question means 17–21
    dated: bool = True  # False when only a time was said ("at 4"): the day is implied

    @property
    def is_range(self) -> bool:
        return self.end is not None

    @property
    def moment(self) -> datetime:
        """When to remind or start: the time said, or 9 in the morning of a whole day."""
        return self.start if self.has_time else self.start.replace(hour=9)


@dataclass
class _Parts:
    day: date | None = None
    day_end: date | None = None  # exclusive, for "this week", "next month"
    clock: tuple[int, int, str | None] | None = None  # hour, minute, am/pm/None
    clock_end: tuple[int, int, str | None] | None = None
    part: str | None = None
    duration: timedelta | None = None
    offset: timedelta | None = None  # "in 2 hours": an exact moment from now
    rrule: dict[str, str] = field(default_factory=dict)
    spans: list[tuple[int, int]] = field(default_factory=list)


# --- finding the parts -------------------------------------------------------------

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "recur",
        re.compile(
            rf"\bevery\s(other\s|(\d+)(?:st|nd|rd|th)?\s)?(days?|weekdays?|weeks?|months?|years?|morning|evening|night|"
            rf"(?:{_WD})s?)(?:\s(?:and|&)\s({_WD}))?\b|\b(daily|weekly|monthly|yearly|annually|"
            rf"on weekdays|weekdays)\b"
        ),
    ),
    ("in", re.compile(rf"\bin\s{_N}\s{_UNIT}(\sand a half)?\b|\bin half an hour\b")),
    ("ago", re.compile(rf"\b{_N}\s{_UNIT}\sago\b")),
    ("from_now", re.compile(rf"\b{_N}\s{_UNIT}\sfrom\s(today|now|tomorrow)\b")),
    (
        "duration",
        re.compile(
            r"\bfor\s(\d+)\s(?:hours?|hrs?)\s(?:and\s)?(\d+)\smin(?:ute)?s?\b"
            rf"|\bfor\s{_N}\s{_UNIT}(\sand a half)?\b"
        ),
    ),
    ("range", re.compile(rf"\b(?:from|between)\s{_SPOT}\s(?:to|until|till|and|-)\s{_SPOT}")),
    ("dash_range", re.compile(rf"\b{_SPOT}\s?(?:-|to|until)\s?{_SPOT}")),
    ("end_of", re.compile(r"\b(?:by\s)?(?:the\s)?end\sof\s(?:the\s)?(day|week|month|year)\b")),
    (
        "deadline",  # "before March", "by the end of June", "before the weekend"
        re.compile(
            rf"\b(before|by|until|till)\s(?:(the\send\sof)\s)?({_MONTH}|the\sweekend)\b(?!\s\d)"
        ),
    ),
    ("period", re.compile(r"\b(this|next|last|the coming)\s(week|weekend|month|year)\b")),
    ("since", re.compile(rf"\bsince\s({_MONTH})\b")),
    ("in_month", re.compile(rf"\b(?:in|during|for)\s({_MONTH})\b(?!\.?\s?\d)")),
    (
        "relday",
        re.compile(
            r"\b(the day after tomorrow|day after tomorrow|the day before yesterday|today|tonight|"
            r"tomorrow|tmrw|yesterday)\b"
        ),
    ),
    ("weekday", re.compile(rf"\b(?:(this|next|last|coming|on)\s)?({_WD})\b")),
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("slash", re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")),
    ("month_day", re.compile(rf"\b({_MONTH})\.?\s{_ORD}(?:,?\s(\d{{4}}))?\b")),
    ("day_month", re.compile(rf"\b(?:the\s)?{_ORD}\s(?:of\s)?({_MONTH})(?:,?\s(\d{{4}}))?\b")),
    ("ordinal", re.compile(r"\b(?:on\s)?the\s(\d{1,2})(?:st|nd|rd|th)\b")),
    ("part", re.compile(r"\b(?:in the\s|this\s|at\s)?(morning|afternoon|evening|night)\b")),
    ("time", re.compile(rf"\b(?:at|by|around|@)\s{_TIME}|\b{_TIME}")),
    (
        "bare_at",
        re.compile(r"\b(?:at|by|around)\s(\d{1,2})\b(?!\s?(?:%|dollars|bucks|percent|minutes))"),
    ),
]
_FILLER = re.compile(r"^(?:\s|,|on|at|by|for|in|the|of|and|from|starting|this|next)*$")


def _number(text: str) -> float:
    text = text.strip()
    return {"a": 1, "an": 1, "half a": 0.5, "half an": 0.5, "a couple of": 2, "a few": 3}.get(
        text
    ) or float(text)


def _unit(word: str, amount: float) -> timedelta | relativedelta:
    unit = word.rstrip("s")
    if unit in ("minute", "min"):
        return timedelta(minutes=amount)
    if unit in ("hour", "hr"):
        return timedelta(hours=amount)
    if unit == "day":
        return timedelta(days=amount)
    if unit == "week":
        return timedelta(weeks=amount)
    if unit == "month":
        return relativedelta(months=int(amount))
    return relativedelta(years=int(amount))


def _clock(groups: tuple[str | None, ...]) -> tuple[int, int, str | None] | None:
    """Read one _TIME match's 13 groups into (hour, minute, meridiem)."""
    word, h1, m1, mer, h2, m2, h3, m3, h4, half, qpast, qto = groups[:12]
    if word:
        return (12, 0, "pm") if word in ("noon", "midday") else (0, 0, "am")
    if h1:
        return int(h1), int(m1 or 0), "am" if mer and mer.startswith("a") else "pm"
    if h2:
        return int(h2), int(m2), None
    if h3:
        return (int(h3), int(m3), None) if int(m3) < 60 else None
    if h4:
        return int(h4), 0, None
    if half:
        return int(half), 30, None
    if qpast:
        return int(qpast), 15, None
    if qto:
        return (int(qto) - 1) % 12 or 12, 45, None
    return None


def _month(word: str) -> int:
    word = word.rstrip(".")
    return (
        MONTHS.index(word) + 1
        if word in MONTHS
        else MONTH_ABBR[word[:4] if word.startswith("sept") else word[:3]]
    )


# --- resolving ---------------------------------------------------------------------


class _Resolver:
    def __init__(self, now: datetime, prefer_past: bool) -> None:
        self.now = now
        self.tz = now.tzinfo
        self.today = now.date()
        self.prefer_past = prefer_past

    def weekday(self, qualifier: str | None, name: str) -> date:
        target = WEEKDAYS.index(name)
        ahead = (target - self.today.weekday()) % 7
        if qualifier == "last" or (self.prefer_past and qualifier in (None, "on")):
            behind = (self.today.weekday() - target) % 7 or 7
            return self.today - timedelta(days=behind)
        if qualifier == "this":
            return self.today + timedelta(days=ahead)
        ahead = ahead or 7
        if qualifier == "next" and self.today.weekday() + ahead <= 6:
            ahead += 7  # "next Tuesday" said early in the week: the one in next week
        return self.today + timedelta(days=ahead)

    def calendar_day(self, month: int, day: int, year: int | None) -> date | None:
        try:
            found = date(year or self.today.year, month, day)
        except ValueError:
            return None
        if year is None:
            if self.prefer_past and found > self.today:
                found = found.replace(year=found.year - 1)
            elif not self.prefer_past and found < self.today:
                found = found.replace(year=found.year + 1)
        return found

    def ordinal_day(self, day: int) -> date | None:
        candidate = self.today.replace(day=1)
        for _ in range(13):
            try:
                found = candidate.replace(day=day)
            except ValueError:
                found = None
            if found and ((found >= self.today) != self.prefer_past or found == self.today):
                return found
            candidate += relativedelta(months=-1 if self.prefer_past else 1)
        return None

    def place(
        self,
        day: date,
        clock: tuple[int, int, str | None],
        part: str | None,
        *,
        soonest: bool = True,
    ) -> datetime:
        hour, minute, meridiem = clock
        if meridiem == "pm" and hour < 12:
            hour += 12
        elif meridiem == "am" and hour == 12:
            hour = 0
        elif meridiem is None and 1 <= hour <= 11:
            if part in ("afternoon", "evening", "night", "tonight"):
                hour += 12
            elif part != "morning":
                hour = (
                    self._likely_hour(day, hour, minute)
                    if soonest
                    else (hour + 12 if hour <= 6 else hour)
                )
        return datetime.combine(day, time(hour % 24, minute), tzinfo=self.tz)

    def _likely_hour(self, day: date, hour: int, minute: int) -> int:
        """ "At 3" means 3 PM; "at 9" means 9 AM — unless that has passed today and
        the evening one has not."""
        preferred = hour + 12 if hour <= 6 else hour
        if day == self.today:
            for candidate in (preferred, hour + 12):
                if (
                    candidate < 24
                    and datetime.combine(day, time(candidate, minute), tzinfo=self.tz) > self.now
                ):
                    return candidate
        return preferred


def _read_parts(text: str, now: datetime, prefer_past: bool) -> _Parts | None:
    r = _Resolver(now, prefer_past)
    parts = _Parts()
    taken: list[tuple[int, int]] = []

    def free(match: re.Match[str]) -> bool:
        return all(match.end() <= a or match.start() >= b for a, b in taken)

    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if not free(match):
                continue
            if _apply(kind, match, parts, r):
                taken.append(match.span())
    if not taken:
        return None
    parts.spans = sorted(taken)
    return parts


def _apply(kind: str, m: re.Match[str], p: _Parts, r: _Resolver) -> bool:
    g = m.groups()
    if kind == "recur":
        return _recur(m, p, r)
    if kind == "in":
        if m.group(0) == "in half an hour":
            p.offset = timedelta(minutes=30)
            return True
        step = _unit(g[1], _number(g[0]))
        if g[2]:
            step = step + _unit(g[1], 0.5) if isinstance(step, timedelta) else step
        if isinstance(step, timedelta) and step < timedelta(days=1):
            p.offset = step
        else:
            p.day = r.today + step
        return True
    if kind == "ago":
        p.day = r.today - _unit(g[1], _number(g[0]))
        return True
    if kind == "from_now":
        step = _unit(g[1], _number(g[0]))
        if g[2] == "now" and isinstance(step, timedelta) and step < timedelta(days=1):
            p.offset = step
        else:
            p.day = r.today + (timedelta(days=1) if g[2] == "tomorrow" else timedelta(0)) + step
        return True
    if kind == "duration":
        if g[0]:  # "for 1 hour 30 minutes"
            p.duration = timedelta(hours=int(g[0]), minutes=int(g[1]))
        else:
            step = _unit(g[3], _number(g[2]))
            if not isinstance(step, timedelta):
                return False
            p.duration = step * 1.5 if g[4] else step
        return True
    if kind in ("range", "dash_range"):
        first = _clock(g[:12]) or ((int(g[12]), 0, None) if g[12] else None)
        second = _clock(g[13:25]) or ((int(g[25]), 0, None) if g[25] else None)
        if first is None or second is None or first[0] > 23 or second[0] > 23:
            return False
        if (
            kind == "dash_range"
            and first[2] is None
            and second[2] is None
            and ":" not in m.group(0)
        ):
            return False  # "2-3" alone is too likely a count or a score
        if first[2] is None and second[2] is not None:  # "2-3pm": the 2 is PM too
            first = (first[0], first[1], second[2] if first[0] <= second[0] else "am")
        p.clock, p.clock_end = first, second
        return True
    if kind == "end_of":
        unit = g[0]
        if unit == "day":
            p.day, p.clock = r.today, (17, 0, None)
        elif unit == "week":
            p.day = r.today + timedelta(days=(4 - r.today.weekday()) % 7)
        elif unit == "month":
            p.day = r.today + relativedelta(day=31)
        else:
            p.day = date(r.today.year, 12, 31)
        return True
    if kind == "period":
        return _period(g[0], g[1], p, r)
    if kind == "deadline":
        p.day = _deadline(g[0], bool(g[1]), g[2], r.today)
        return True
    if kind == "since":
        month = _month(g[0])
        year = r.today.year if month <= r.today.month else r.today.year - 1
        p.day, p.day_end = date(year, month, 1), r.today + timedelta(days=1)
        return True
    if kind == "in_month":  # "in January": the whole month, the one meant by the tense
        month = _month(g[0])
        year = r.today.year
        if r.prefer_past and month > r.today.month:
            year -= 1
        elif not r.prefer_past and month < r.today.month:
            year += 1
        p.day = date(year, month, 1)
        p.day_end = p.day + relativedelta(months=1)
        return True
    if kind == "relday":
        word = g[0]
        offsets = {
            "today": 0,
            "tonight": 0,
            "tomorrow": 1,
            "tmrw": 1,
            "yesterday": -1,
            "day after tomorrow": 2,
            "the day after tomorrow": 2,
            "the day before yesterday": -2,
        }
        p.day = r.today + timedelta(days=offsets[word])
        if word == "tonight":
            p.part = "tonight"
        return True
    if kind == "weekday":
        if p.day is not None:
            return True  # "Friday the 6th": the date wins, the weekday is just said
        p.day = r.weekday(g[0] if g[0] != "coming" else "this", g[1])
        return True
    if kind == "iso":
        try:
            p.day = date(int(g[0]), int(g[1]), int(g[2]))
        except ValueError:
            return False
        return True
    if kind == "slash":
        year = int(g[2]) + (2000 if g[2] and len(g[2]) == 2 else 0) if g[2] else None
        p.day = r.calendar_day(int(g[0]), int(g[1]), year)
        return p.day is not None
    if kind == "month_day":
        p.day = r.calendar_day(_month(g[0]), int(g[1]), int(g[2]) if g[2] else None)
        return p.day is not None
    if kind == "day_month":
        p.day = r.calendar_day(_month(g[1]), int(g[0]), int(g[2]) if g[2] else None)
        return p.day is not None
    if kind == "ordinal":
        p.day = r.ordinal_day(int(g[0]))
        return p.day is not None
    if kind == "part":
        said = m.group(0).strip()
        if said.startswith("this") and p.day is None:
            p.day = r.today
        p.part = p.part or g[0]
        return True
    if kind == "time":
        clock = _clock(g[:12]) or _clock(g[12:24])
        if clock is None or clock[0] > 23 or clock[1] > 59:
            return False
        p.clock = clock
        return True
    if kind == "bare_at":
        hour = int(g[0])
        if hour > 23:
            return False
        p.clock = (hour, 0, None)
        return True
    return False


def _recur(m: re.Match[str], p: _Parts, r: _Resolver) -> bool:
    other, count, unit, second_day, single = m.groups()
    interval = 2 if other and other.strip() == "other" else int(count) if count else 1
    rule: dict[str, str] = {}
    word = (unit or single or "").strip()
    if word in ("days", "weeks", "months", "years", "weekdays"):
        word = word[:-1]
    if word in ("day", "daily", "morning", "evening", "night"):
        rule["FREQ"] = "DAILY"
        if word in PARTS:
            p.part = word
    elif word in ("weekday", "weekdays", "on weekdays"):
        rule.update(FREQ="WEEKLY", BYDAY="MO,TU,WE,TH,FR")
    elif word in ("week", "weekly"):
        rule["FREQ"] = "WEEKLY"
    elif word in ("month", "monthly"):
        rule["FREQ"] = "MONTHLY"
    elif word in ("year", "yearly", "annually"):
        rule["FREQ"] = "YEARLY"
    else:
        days = [word.rstrip("s")] + ([second_day] if second_day else [])
        rule.update(FREQ="WEEKLY", BYDAY=",".join(RRULE_DAYS[WEEKDAYS.index(d)] for d in days))
    if interval > 1:
        rule["INTERVAL"] = str(interval)
    p.rrule = rule
    return True


def _deadline(word: str, end_of: bool, what: str, today: date) -> date:
    """The day a deadline falls on: "before March" is the last day of February, "by
    June" the 1st of June, "by the end of June" its last day, "before the weekend"
    Friday. A month already past this year is next year's."""
    if what == "the weekend":
        return today + timedelta(days=(4 - today.weekday()) % 7)
    month = _month(what)
    first = date(today.year + (month < today.month), month, 1)
    if end_of:
        return first + relativedelta(day=31)
    if word == "before":
        if first <= today:
            first = first.replace(year=first.year + 1)
        return first - timedelta(days=1)
    return first


def _period(which: str, unit: str, p: _Parts, r: _Resolver) -> bool:
    shift = {"this": 0, "the coming": 1, "next": 1, "last": -1}[which]
    if unit == "week":
        start = r.today - timedelta(days=r.today.weekday()) + timedelta(weeks=shift)
        p.day, p.day_end = start, start + timedelta(days=7)
    elif unit == "weekend":
        saturday = r.today + timedelta(days=(5 - r.today.weekday()) % 7)
        if r.today.weekday() == 6:
            saturday = r.today - timedelta(days=1)
        start = saturday + timedelta(weeks=max(shift, 0) if which != "last" else -1)
        p.day, p.day_end = start, start + timedelta(days=2)
    elif unit == "month":
        start = r.today.replace(day=1) + relativedelta(months=shift)
        p.day, p.day_end = start, start + relativedelta(months=1)
    else:
        start = date(r.today.year + shift, 1, 1)
        p.day, p.day_end = start, date(start.year + 1, 1, 1)
    return True


def _combine(p: _Parts, r: _Resolver, text: str) -> When:
    tz = r.tz
    if p.offset is not None:  # "in 20 minutes": a moment, not a wall-clock time
        # In UTC: wall-clock arithmetic would be an hour off across a DST change. To the
        # second: cut to the minute, "remind me in two minutes" could fire after one.
        start = (r.now.astimezone(UTC) + p.offset).astimezone(tz).replace(microsecond=0)
        return _when(start, p, text)
    clock = p.clock
    if clock is None and p.part is not None:
        default = PARTS[p.part][0]
        clock = (default.hour, default.minute, "am" if default.hour < 12 else "pm")
    if p.rrule:
        return _repeating(p, r, clock, text)
    if p.day_end is not None:  # a period: this week, next month, since January
        return When(
            datetime.combine(p.day, time(0), tzinfo=tz),  # type: ignore[arg-type]
            datetime.combine(p.day_end, time(0), tzinfo=tz),
            False,
            text=text,
        )
    if clock is None:  # a day, or only a duration ("for 45 minutes")
        day = p.day or r.today
        return When(
            datetime.combine(day, time(0), tzinfo=tz), None, False, duration=p.duration, text=text
        )
    day = p.day or r.today
    start = r.place(day, clock, p.part)
    if p.day is None and start <= r.now and not r.prefer_past:
        day = r.today + timedelta(days=1)  # "at 9" when 9 has passed: tomorrow
        start = r.place(day, clock, p.part)
    if p.clock_end is None:
        return _when(start, p, text)
    end = r.place(day, p.clock_end, p.part)
    if end <= start and p.clock_end[2] is None and end.hour < 12:
        end += timedelta(hours=12)  # "from 11 to 1": one in the afternoon
    if end <= start:
        end += timedelta(days=1)
    return When(
        start, end, True, duration=end - start, text=text, part=p.part, dated=p.day is not None
    )


def _when(start: datetime, p: _Parts, text: str) -> When:
    end = start + p.duration if p.duration else None
    return When(
        start,
        end,
        True,
        duration=p.duration,
        text=text,
        part=p.part,
        dated=p.day is not None or p.offset is not None,
    )


def _repeating(
    p: _Parts, r: _Resolver, clock: tuple[int, int, str | None] | None, text: str
) -> When:
    """The first occurrence: the day given, else the first day from today that the
    rule allows (today too, if its time is still ahead)."""
    weekdays = {RRULE_DAYS.index(d) for d in p.rrule.get("BYDAY", "").split(",") if d}
    day = p.day or r.today
    for _ in range(15):
        if not weekdays or day.weekday() in weekdays:
            if clock is None:
                start = datetime.combine(day, time(0), tzinfo=r.tz)
                if day >= r.today:
                    break
            else:
                start = r.place(day, clock, p.part, soonest=False)
                if start > r.now:
                    break
        day += timedelta(days=1)
    rule = ";".join(f"{key}={value}" for key, value in p.rrule.items())
    end = start + p.duration if p.duration else None
    return When(
        start, end, clock is not None, rrule=rule, duration=p.duration, text=text, part=p.part
    )


def parse_when(text: str, now: datetime, *, prefer_past: bool = False) -> When | None:
    """Read ``text`` — all of it a time expression, like a slot value — as a time;
    None when it names no time. Machine-written times (ISO 8601, from the Claude
    path) are read as they are; what the grammar does not know goes to dateparser."""
    stripped = text.strip()
    if re.fullmatch(r"\d{1,2}(?::\d{2})?", stripped):
        stripped = f"at {stripped}"  # a bare "7" answering "when?" is a time of day
    found = find_when(stripped, now, prefer_past=prefer_past)
    if found is not None:
        return found[1]
    if not re.search(r"[a-z]{3,}|\d+[./]\d+", stripped.lower()):
        return None  # nothing dateparser would read better than the grammar did
    return _dateparser(stripped, now, prefer_past)


def _dateparser(text: str, now: datetime, prefer_past: bool) -> When | None:
    import dateparser  # imported once, at warm-up; the first parse costs ~100 ms

    settings = {
        "PREFER_DATES_FROM": "past" if prefer_past else "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        # Naive wall-clock results, placed in the zone by zoneinfo: dateparser applies
        # today's UTC offset to dates across a DST change.
        "RETURN_AS_TIMEZONE_AWARE": False,
        "REQUIRE_PARTS": [],
    }
    found = dateparser.parse(text, languages=["en"], settings=settings)  # type: ignore[arg-type]
    if found is None:
        return None
    local = found.replace(tzinfo=now.tzinfo)
    has_time = local.time() != time(0) and local.replace(second=0, microsecond=0) != now.replace(
        second=0, microsecond=0
    )
    start = local if has_time else datetime.combine(local.date(), time(0), tzinfo=now.tzinfo)
    return When(start, None, has_time, text=text)


def warm_up() -> None:
    """Load dateparser's language data and compile the grammar before the first user."""
    now = datetime.now(UTC)
    parse_when("next tuesday at 10", now)
    _dateparser("in a fortnight", now, False)


def find_when(text: str, now: datetime, *, prefer_past: bool = False) -> tuple[str, When] | None:
    """Split the time expression off the rest of ``text``: "call mom tomorrow at 6"
    → ("call mom", When(tomorrow 18:00)). ``now`` carries the user's time zone."""
    try:
        return _find_when(text, now, prefer_past)
    except (OverflowError, ValueError):
        # "for 99999999999 hours", "in 10000 years": numbers past the calendar's end
        # name no time we can hold; the words are left for the rest of the parse.
        return None


def _find_when(text: str, now: datetime, prefer_past: bool) -> tuple[str, When] | None:
    exact = _machine_time(text.strip(), now)
    if exact is not None:
        return "", exact
    normalized = digits_for_words(text)
    r = _Resolver(now, prefer_past)
    parts = _read_parts(normalized, now, prefer_past)
    if parts is None:
        return None
    cluster = _cluster(normalized, parts.spans)
    if cluster is None:
        return None
    start, end = cluster
    kept = [span for span in parts.spans if start <= span[0] and span[1] <= end]
    if len(kept) != len(parts.spans):
        parts = _read_parts(normalized[start:end], now, prefer_past) or parts
    when = _combine(parts, r, normalized[start:end].strip())
    rest = (normalized[:start] + " " + normalized[end:]).strip()
    rest = re.sub(r"\s+(?:on|at|by|for|from|in|starting|before|until|till|due)$", "", rest)
    rest = re.sub(r"^(?:on|at|by|for|in)\s+", "", rest).strip(" ,")
    return re.sub(r"\s{2,}", " ", rest), when


def _machine_time(text: str, now: datetime) -> When | None:
    """ISO 8601, as the Claude path writes times: read exactly, never guessed at."""
    if not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?", text
    ):
        return None
    try:
        exact = datetime.fromisoformat(text)
    except ValueError:
        return None
    has_time = len(text) > 10
    if exact.tzinfo is None:
        exact = exact.replace(tzinfo=now.tzinfo)
    return When(exact.astimezone(now.tzinfo), None, has_time, text=text)


def _cluster(text: str, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The widest run of time parts joined only by filler words ("on", "at", ",")."""
    groups: list[list[tuple[int, int]]] = []
    for span in spans:
        if groups and _FILLER.match(text[groups[-1][-1][1] : span[0]]):
            groups[-1].append(span)
        else:
            groups.append([span])
    if not groups:
        return None
    best = max(groups, key=lambda g: (sum(b - a for a, b in g), g[-1][1]))
    return best[0][0], best[-1][1]


def with_default_length(when: When) -> When:
    """An event with a start and no end lasts an hour; a day lasts the day."""
    if when.end is not None:
        return when
    if not when.has_time:
        return replace(when, end=when.start + timedelta(days=1))
    return replace(when, end=when.start + DEFAULT_LENGTH)


def as_window(when: When) -> tuple[datetime, datetime]:
    """The span a question about ``when`` covers: a day, a part of a day, a range."""
    if when.end is not None:
        return when.start, when.end
    if not when.has_time:
        return when.start, when.start + timedelta(days=1)
    return when.start, when.start + DEFAULT_LENGTH


def part_window(day: date, part: str, tz: object) -> tuple[datetime, datetime]:
    _default, low, high = PARTS[part]
    return (
        datetime.combine(day, low, tzinfo=tz),  # type: ignore[arg-type]
        datetime.combine(day, high, tzinfo=tz),
    )  # type: ignore[arg-type]
