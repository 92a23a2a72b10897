"""Events to and from iCalendar."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from skills.context import SkillError
from skills.recurrence import normalize_rule
from skills.types import EARLIEST, LATEST, TIME_LIMITS
from store.models import Event

PRODID = "-//Life OS//Calendar//EN"


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def to_vevent(event: Event, uid: str | None = None) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", uid or event.external_uid or str(event.id))
    vevent.add("summary", event.title)
    if event.all_day:
        start_day = _local(event.start_at, event.timezone).date()
        end_day = _local(event.end_at, event.timezone).date()
        vevent.add("dtstart", start_day)
        vevent.add("dtend", max(end_day, start_day + timedelta(days=1)))
    else:
        vevent.add("dtstart", _local(event.start_at, event.timezone))
        vevent.add("dtend", _local(event.end_at, event.timezone))
    vevent.add("dtstamp", datetime.now(UTC))
    vevent.add("last-modified", event.updated_at)
    if event.description:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    for attendee in event.attendees:
        vevent.add("attendee", attendee if ":" in attendee else f"mailto:{attendee}")
    if event.recurrence:
        vevent.add("rrule", icalendar.vRecur.from_ical(event.recurrence))
        for stamp in event.exdates:
            moment = datetime.fromisoformat(stamp)
            local = _local(moment, event.timezone)
            vevent.add("exdate", local.date() if event.all_day else local)
    return vevent


def to_calendar(events: list[Event]) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    for event in events:
        calendar.add_component(to_vevent(event))
    calendar.add_missing_timezones()
    return calendar


def _aware(value: date | datetime, zone: str) -> datetime:
    tz: tzinfo = ZoneInfo(zone)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    return datetime.combine(value, time(0), tzinfo=tz)


@dataclass
class ParsedEvent:
    """A VEVENT read from a file, ready to become (or update) an Event row."""

    uid: str
    fields: dict[str, Any]
    recurrence_id: datetime | None = None
    last_modified: datetime | None = None


def parse_calendar(data: bytes | str, default_zone: str) -> list[ParsedEvent]:
    """Read every VEVENT; raise SkillError naming what is wrong with the file."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    if "\x00" in text:
        raise SkillError("that iCalendar file contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SkillError("that iCalendar file contains text that is not valid Unicode") from exc
    try:
        calendar = icalendar.Calendar.from_ical(_trimmed(text))
    except (ValueError, IndexError, KeyError) as exc:
        raise SkillError(f"that is not a valid iCalendar file: {exc}") from exc
    if calendar.name != "VCALENDAR":
        raise SkillError("that is not an iCalendar file (no VCALENDAR)")
    return [_parse_vevent(vevent, default_zone) for vevent in calendar.walk("VEVENT")]


# What _parse_vevent reads of an event. icalendar spends ~0.1 ms on each line it
# parses; exports carry as many lines again that are never read (DTSTAMP, SEQUENCE,
# STATUS, X- properties, alarms), so they are left out before parsing.
_READ = {
    "BEGIN",
    "END",
    "UID",
    "SUMMARY",
    "DTSTART",
    "DTEND",
    "DURATION",
    "DESCRIPTION",
    "LOCATION",
    "ATTENDEE",
    "RRULE",
    "EXDATE",
    "RECURRENCE-ID",
    "LAST-MODIFIED",
}


def _trimmed(text: str) -> str:
    """``text`` with the lines of each VEVENT that are never read left out, and its
    nested components (VALARM); everything outside events (time zones) is kept."""
    kept: list[str] = []
    depth = 0  # 0 outside events, 1 in a VEVENT, 2+ in a component inside it
    keep = True
    for raw in text.split("\n"):  # not splitlines(): U+2028 in a DESCRIPTION is text
        line = raw.removesuffix("\r")
        if line[:1] in (" ", "\t"):  # a folded line continues the one before
            if keep:
                kept.append(line)
            continue
        name = line.split(":", 1)[0].split(";", 1)[0].strip().upper()
        value = line.split(":", 1)[-1].strip().upper()
        if name == "BEGIN" and (depth or value == "VEVENT"):
            depth += 1
        keep = depth == 0 or (depth == 1 and name in _READ)
        if name == "END" and depth:
            keep = depth == 1
            depth -= 1
        if keep:
            kept.append(line)
    return "\r\n".join(kept) + "\r\n"


def _parse_vevent(vevent: icalendar.Event, default_zone: str) -> ParsedEvent:
    uid = str(vevent.get("UID") or uuid.uuid4())
    title = str(vevent.get("SUMMARY") or "").strip() or "Untitled event"
    if "DTSTART" not in vevent:
        raise SkillError(f"the event “{title}” has no start time (DTSTART)")
    try:
        raw_start = vevent["DTSTART"].dt
        all_day = not isinstance(raw_start, datetime)
        zone = _zone_of(raw_start, default_zone)
        start = _aware(raw_start, zone)
        if "DTEND" in vevent:
            end = _aware(vevent["DTEND"].dt, zone)
        elif "DURATION" in vevent:
            end = start + vevent["DURATION"].dt
        else:
            end = start + (timedelta(days=1) if all_day else timedelta(hours=1))
        local_start = start.astimezone(ZoneInfo(zone))
    except (AttributeError, TypeError, ValueError, OverflowError, ZoneInfoNotFoundError) as exc:
        raise SkillError(f"the event “{title}” has unreadable times: {exc}") from exc
    if end <= start:
        raise SkillError(f"the event “{title}” ends before it starts")
    if start < EARLIEST or end >= LATEST:
        raise SkillError(f"the event “{title}” is out of range: {TIME_LIMITS}")
    recurrence = _rule(vevent.get("RRULE"), local_start, title)
    fields: dict[str, Any] = {
        "title": title[:500],
        "start_at": start.astimezone(UTC),
        "end_at": end.astimezone(UTC),
        "all_day": all_day,
        "timezone": zone,
        "description": str(vevent["DESCRIPTION"]) if "DESCRIPTION" in vevent else None,
        "location": str(vevent["LOCATION"])[:500] if "LOCATION" in vevent else None,
        "attendees": [
            str(a).removeprefix("mailto:").removeprefix("MAILTO:")
            for a in _as_list(vevent.get("ATTENDEE"))
        ],
        "recurrence": recurrence,
        "exdates": _exdates(vevent, zone),
    }
    recurrence_id = None
    if "RECURRENCE-ID" in vevent:
        recurrence_id = _aware(vevent["RECURRENCE-ID"].dt, zone).astimezone(UTC)
    modified = None
    if "LAST-MODIFIED" in vevent:
        modified = _aware(vevent["LAST-MODIFIED"].dt, "UTC").astimezone(UTC)
    return ParsedEvent(uid, fields, recurrence_id, modified)


def _rule(value: Any, start: datetime, title: str) -> str | None:
    """The event's RRULE, through the same checks as a rule typed in."""
    if value is None:
        return None
    if isinstance(value, list):
        raise SkillError(f"the event “{title}” has more than one RRULE")
    try:
        return normalize_rule(value.to_ical().decode(), start)
    except SkillError as exc:
        raise SkillError(f"the event “{title}”: {exc}") from exc


def _zone_of(value: date | datetime, default_zone: str) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        key = getattr(value.tzinfo, "key", None) or getattr(value.tzinfo, "zone", None)
        if key:
            return str(key)
        if value.utcoffset() == timedelta(0):
            return "UTC"
    return default_zone


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _exdates(vevent: icalendar.Event, zone: str) -> list[str]:
    stamps = []
    for entry in _as_list(vevent.get("EXDATE")):
        for moment in entry.dts:
            stamps.append(_aware(moment.dt, zone).astimezone(UTC).isoformat())
    return stamps
