"""The calendar as its user sees it: local times that hold across DST, repeating
events expanded everywhere, conflicts, free time, and iCalendar in and out."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlmodel import func, select

from skills.calendar.schemas import EventCreate, EventUpdate, Preference, SlotRequest, TimeRange
from skills.calendar.service import CalendarService
from skills.context import NotFound, SkillContext, SkillError
from skills.history import undo_last
from store.models import Event

NY = ZoneInfo("America/New_York")


def at(day: str, hhmm: str = "00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=NY)


def local_starts(instances: list) -> list[str]:
    return [i.start_at.astimezone(NY).strftime("%a %m-%d %H:%M") for i in instances]


async def test_weekly_event_keeps_its_local_time_across_spring_dst(ctx: SkillContext) -> None:
    calendar = CalendarService(ctx)
    await calendar.create_event(
        EventCreate(
            title="Standup",
            start_at=at("2026-03-02", "09:00"),
            duration_minutes=15,
            recurrence="FREQ=WEEKLY;BYDAY=MO",
        )
    )
    found = await calendar.query(TimeRange(start=at("2026-03-01"), end=at("2026-03-17")))
    assert local_starts(found) == ["Mon 03-02 09:00", "Mon 03-09 09:00", "Mon 03-16 09:00"]
    assert [i.start_at.hour for i in found] == [14, 13, 13]  # UTC shifts, local does not
    assert all(i.end_at - i.start_at == timedelta(minutes=15) for i in found)


async def test_daily_event_across_autumn_dst(ctx: SkillContext) -> None:
    calendar = CalendarService(ctx)
    await calendar.create_event(
        EventCreate(
            title="Walk",
            start_at=at("2026-10-30", "07:30"),
            duration_minutes=30,
            recurrence="FREQ=DAILY;COUNT=4",
        )
    )
    found = await calendar.query(TimeRange(start=at("2026-10-29"), end=at("2026-11-10")))
    assert local_starts(found) == [
        "Fri 10-30 07:30",
        "Sat 10-31 07:30",
        "Sun 11-01 07:30",
        "Mon 11-02 07:30",
    ]
    assert [i.start_at.hour for i in found] == [11, 11, 12, 12]


async def test_cancel_one_occurrence_and_undo(ctx: SkillContext) -> None:
    calendar = CalendarService(ctx)
    event = await calendar.create_event(
        EventCreate(title="Gym", start_at=at("2026-03-03", "18:00"), recurrence="FREQ=WEEKLY")
    )
    window = TimeRange(start=at("2026-03-01"), end=at("2026-03-25"))
    second = (await calendar.query(window))[1].start_at
    await calendar.delete_event(event.id, occurrence=second)
    assert local_starts(await calendar.query(window)) == [
        "Tue 03-03 18:00",
        "Tue 03-17 18:00",
        "Tue 03-24 18:00",
    ]
    with pytest.raises(NotFound, match="does not occur"):
        await calendar.delete_event(event.id, occurrence=at("2026-03-04", "18:00"))
    await undo_last(ctx)
    assert len(await calendar.query(window)) == 4


async def test_moving_an_event_keeps_its_length(ctx: SkillContext) -> None:
    calendar = CalendarService(ctx)
    event = await calendar.create_event(
        EventCreate(title="Dentist", start_at=at("2026-03-05", "10:00"), duration_minutes=45)
    )
    moved = await calendar.update_event(event.id, EventUpdate(start_at=at("2026-03-05", "16:00")))
    assert moved.end_at.astimezone(NY).strftime("%H:%M") == "16:45"
    with pytest.raises(SkillError, match="end after it starts"):
        await calendar.update_event(event.id, EventUpdate(end_at=at("2026-03-05", "15:00")))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"end_at": at("2026-03-05", "09:00")}, "end after it starts"),
        ({"end_at": at("2026-03-05", "10:00")}, "end after it starts"),
        ({"duration_minutes": 0}, "more than zero"),
        ({"duration_minutes": -30}, "more than zero"),
    ],
)
def test_events_must_have_positive_length(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EventCreate(title="x", start_at=at("2026-03-05", "10:00"), **fields)


def test_ranges_are_bounded() -> None:
    with pytest.raises(ValidationError, match="at most 366 days"):
        TimeRange(start=at("2026-01-01"), end=at("2028-01-01"))
    with pytest.raises(ValidationError, match="end after it starts"):
        TimeRange(start=at("2026-01-02"), end=at("2026-01-01"))


async def test_never_ending_rule_is_expanded_only_inside_the_range(ctx: SkillContext) -> None:
    calendar = CalendarService(ctx)
    await calendar.create_event(
        EventCreate(
            title="Pills",
            start_at=at("2020-01-01", "08:00"),
            duration_minutes=5,
            recurrence="FREQ=DAILY",
        )
    )
    year = await calendar.query(TimeRange(start=at("2026-01-01"), end=at("2027-01-01")))
    assert len(year) == 365


async def test_conflicts_include_repeating_instances(ctx: SkillContext) -> None:
    calendar = CalendarService(ctx)
    await calendar.create_event(
        EventCreate(
            title="Standup",
            start_at=at("2026-03-02", "09:00"),
            duration_minutes=30,
            recurrence="FREQ=WEEKLY;BYDAY=MO,WE",
        )
    )
    await calendar.create_event(
        EventCreate(title="Client call", start_at=at("2026-03-04", "09:15"), duration_minutes=60)
    )
    await calendar.create_event(
        EventCreate(title="Lunch", start_at=at("2026-03-04", "12:00"), duration_minutes=60)
    )
    conflicts = await calendar.find_conflicts(
        TimeRange(start=at("2026-03-02"), end=at("2026-03-07"))
    )
    assert [(c.first.title, c.second.title, c.overlap_minutes) for c in conflicts] == [
        ("Standup", "Client call", 15)
    ]


async def test_suggested_times_respect_hours_events_buffer_and_preference(
    ctx: SkillContext,
) -> None:
    calendar = CalendarService(ctx)  # the clock says Wed 2026-03-04 15:00 New York
    await calendar.create_event(
        EventCreate(
            title="Busy morning",
            start_at=at("2026-03-05", "09:00"),
            end_at=at("2026-03-05", "11:00"),
        )
    )
    request = SlotRequest(
        duration_minutes=60,
        start=at("2026-03-04"),
        end=at("2026-03-06"),
        buffer_minutes=15,
        prefer=Preference.MORNING,
        limit=3,
    )
    slots = await calendar.suggest_optimal_time(request)
    starts = [s.start_at.astimezone(NY).strftime("%a %H:%M") for s in slots]
    # Thursday after the busy block plus its buffer comes first; nothing in the past,
    # nothing before 9:00 or after 17:00.
    assert starts[0] == "Thu 11:15"
    for slot in slots:
        local = slot.start_at.astimezone(NY)
        assert local >= at("2026-03-04", "15:00")
        assert local.hour >= 9 and slot.end_at.astimezone(NY).hour <= 17
        assert slot.end_at - slot.start_at == timedelta(hours=1)


async def test_no_suggestions_on_weekends_or_in_the_past(ctx: SkillContext) -> None:
    calendar = CalendarService(ctx)
    weekend = SlotRequest(duration_minutes=30, start=at("2026-03-07"), end=at("2026-03-09"))
    assert await calendar.suggest_optimal_time(weekend) == []
    past = SlotRequest(duration_minutes=30, start=at("2026-03-01"), end=at("2026-03-02"))
    with pytest.raises(SkillError, match="in the past"):
        await calendar.suggest_optimal_time(past)


async def test_suggestions_on_the_dst_day_stay_in_working_hours(ctx: SkillContext, clock) -> None:
    clock.now = at("2026-03-06", "12:00")
    request = SlotRequest(
        duration_minutes=60,
        start=at("2026-03-09"),
        end=at("2026-03-10"),
        prefer=Preference.MORNING,
        limit=1,
    )
    [slot] = await CalendarService(ctx).suggest_optimal_time(request)
    assert slot.start_at.astimezone(NY).strftime("%a %H:%M") == "Mon 09:00"


async def test_ics_round_trip_and_reimport_changes_nothing(
    ctx: SkillContext, other: SkillContext
) -> None:
    mine = CalendarService(ctx)
    standup = await mine.create_event(
        EventCreate(
            title="Standup",
            start_at=at("2026-03-02", "09:00"),
            duration_minutes=15,
            recurrence="FREQ=WEEKLY;BYDAY=MO",
            location="Room 1",
            attendees=["bob@example.com"],
        )
    )
    await mine.delete_event(standup.id, occurrence=at("2026-03-09", "09:00"))
    await mine.create_event(EventCreate(title="Holiday", start_at=at("2026-03-20"), all_day=True))
    exported = await mine.export_ics()
    assert b"RRULE:FREQ=WEEKLY;BYDAY=MO" in exported and b"BEGIN:VTIMEZONE" in exported

    theirs = CalendarService(other)
    assert await theirs.import_ics(exported) == {"created": 2, "updated": 0, "unchanged": 0}
    assert await theirs.import_ics(exported) == {"created": 0, "updated": 0, "unchanged": 2}
    window = TimeRange(start=at("2026-03-01"), end=at("2026-03-24"))
    theirs_seen = await theirs.query(window)
    mine_seen = await mine.query(window)
    timed = [(i.title, i.start_at, i.end_at) for i in theirs_seen if not i.all_day]
    assert timed == [(i.title, i.start_at, i.end_at) for i in mine_seen if not i.all_day]
    assert len(timed) == 3  # Mar 2, 16, 23: the cancelled Mar 9 stays cancelled
    # An all-day event is a date, not an instant: it is the 20th in London too.
    [holiday] = [i for i in theirs_seen if i.all_day]
    assert (
        holiday.start_at.astimezone(ZoneInfo("Europe/London")).strftime("%m-%d %H:%M")
        == "03-20 00:00"
    )


BROKEN_EVENT = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:good-1
DTSTART:20260310T150000Z
DTEND:20260310T160000Z
SUMMARY:Fine
END:VEVENT
BEGIN:VEVENT
UID:bad-1
DTSTART:20260310T150000Z
DTEND:20260310T140000Z
SUMMARY:Backwards
END:VEVENT
END:VCALENDAR
"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not a calendar", "not a valid iCalendar"),
        (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n", "no start"),
        (BROKEN_EVENT, "“Backwards” ends before it starts"),
    ],
)
async def test_bad_ics_imports_nothing(ctx: SkillContext, data: bytes, message: str) -> None:
    with pytest.raises(SkillError, match=message):
        await CalendarService(ctx).import_ics(data)
    count = (await ctx.session.exec(select(func.count()).select_from(Event))).one()
    assert count == 0


async def test_another_users_events_are_invisible_and_untouchable(
    ctx: SkillContext, other: SkillContext
) -> None:
    event = await CalendarService(ctx).create_event(
        EventCreate(title="Private", start_at=at("2026-03-05", "10:00"))
    )
    theirs = CalendarService(other)
    for attempt in (
        theirs.get(event.id),
        theirs.update_event(event.id, EventUpdate(title="pwned")),
        theirs.delete_event(event.id),
    ):
        with pytest.raises(NotFound):
            await attempt
    window = TimeRange(start=at("2026-03-01"), end=at("2026-03-31"))
    assert await theirs.query(window) == []
    assert await theirs.find_conflicts(window) == []
    assert b"Private" not in await theirs.export_ics()
