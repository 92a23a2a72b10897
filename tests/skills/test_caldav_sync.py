"""Two-way sync against a real Radicale server: both directions, no duplicates."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from skills.calendar.remote import RemoteCalendar
from skills.calendar.schemas import EventCreate, EventUpdate, TimeRange
from skills.calendar.service import CalendarService
from skills.calendar.sync import CalendarSync
from skills.context import SkillContext, SkillError, Unavailable
from skills.sealing import KeyRing
from store.models import CalendarAccount, Event
from tests.radicale_server import USERS, loopback

NY = ZoneInfo("America/New_York")
KEY = bytes(range(32))


@pytest.fixture
def keyed(ctx: SkillContext) -> SkillContext:
    ctx.keys = KeyRing.single(KEY)
    return ctx


def ics(uid: str, title: str, start: str, end: str, extra: str = "") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//another client//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260301T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
        f"SUMMARY:{title}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def server(url: str) -> RemoteCalendar:
    """Another client (a phone, say) working on the same calendar."""
    return loopback(url, "ann", USERS["ann"])


async def remote_titles(url: str) -> list[str]:
    async with server(url) as remote:
        objects = await remote.objects()
    return sorted(
        line.split(":", 1)[1].strip()
        for o in objects
        for line in o.data.splitlines()
        if line.startswith("SUMMARY:")
    )


async def local_titles(ctx: SkillContext) -> list[str]:
    return sorted(
        (await ctx.session.exec(select(Event.title).where(Event.user_id == ctx.user_id))).all()
    )


async def test_two_way_sync_round_trip(keyed: SkillContext, calendar_url: str) -> None:
    sync = CalendarSync(keyed, loopback)
    calendar = CalendarService(keyed)
    await sync.connect(calendar_url, "ann", USERS["ann"])
    mine = await calendar.create_event(
        EventCreate(
            title="Dentist", start_at=datetime(2026, 3, 10, 9, tzinfo=NY), duration_minutes=30
        )
    )
    async with server(calendar_url) as phone:
        await phone.put(ics("phone-1", "Gym", "20260311T230000Z", "20260312T000000Z"))

    first = await sync.sync()
    assert first.pushed == {"created": 1, "updated": 0, "deleted": 0}
    assert first.pulled == {"created": 1, "updated": 0, "deleted": 0}
    assert await remote_titles(calendar_url) == ["Dentist", "Gym"]
    assert await local_titles(keyed) == ["Dentist", "Gym"]

    again = await sync.sync()  # nothing changed anywhere: nothing moves, nothing doubles
    assert again.pushed == again.pulled == {"created": 0, "updated": 0, "deleted": 0}
    assert await remote_titles(calendar_url) == ["Dentist", "Gym"]
    assert await local_titles(keyed) == ["Dentist", "Gym"]

    # Changes on each side travel to the other.
    await calendar.update_event(mine.id, EventUpdate(title="Dentist (moved)"))
    async with server(calendar_url) as phone:
        [gym] = [o for o in await phone.objects() if "Gym" in o.data]
        await phone.put(
            ics("phone-1", "Gym with Sam", "20260311T230000Z", "20260312T000000Z"),
            gym.href,
            gym.etag,
        )
    changed = await sync.sync()
    assert changed.pushed["updated"] == 1 and changed.pulled["updated"] == 1
    assert await remote_titles(calendar_url) == ["Dentist (moved)", "Gym with Sam"]
    assert await local_titles(keyed) == ["Dentist (moved)", "Gym with Sam"]

    # Deletions too.
    await calendar.delete_event(mine.id)
    async with server(calendar_url) as phone:
        [gym] = [o for o in await phone.objects() if "Gym" in o.data]
        await phone.delete(gym.href)
    deleted = await sync.sync()
    assert deleted.pushed["deleted"] == 1 and deleted.pulled["deleted"] == 1
    assert await remote_titles(calendar_url) == []
    assert await local_titles(keyed) == []


async def test_moved_instance_from_the_server(keyed: SkillContext, calendar_url: str) -> None:
    series = ics(
        "series-1",
        "Standup",
        "20260302T140000Z",
        "20260302T141500Z",
        "RRULE:FREQ=WEEKLY;COUNT=3\r\n",
    )
    moved = (
        "BEGIN:VEVENT\r\nUID:series-1\r\nDTSTAMP:20260301T000000Z\r\n"
        "RECURRENCE-ID:20260309T140000Z\r\nDTSTART:20260310T150000Z\r\n"
        "DTEND:20260310T151500Z\r\nSUMMARY:Standup (Tuesday)\r\nEND:VEVENT\r\n"
    )
    async with server(calendar_url) as phone:
        await phone.put(series.replace("END:VCALENDAR", moved + "END:VCALENDAR"))
    sync = CalendarSync(keyed, loopback)
    await sync.connect(calendar_url, "ann", USERS["ann"])
    await sync.sync()
    found = await CalendarService(keyed).query(
        TimeRange(start=datetime(2026, 3, 1, tzinfo=NY), end=datetime(2026, 3, 20, tzinfo=NY))
    )
    assert [(i.title, i.start_at.day) for i in found] == [
        ("Standup", 2),
        ("Standup (Tuesday)", 10),
        ("Standup", 16),
    ]
    second = await sync.sync()
    assert second.pushed == second.pulled == {"created": 0, "updated": 0, "deleted": 0}


async def test_wrong_password_or_address_stores_nothing(
    keyed: SkillContext, calendar_url: str, caldav_base: str
) -> None:
    sync = CalendarSync(keyed, loopback)
    with pytest.raises(SkillError, match="refused the username or password"):
        await sync.connect(calendar_url, "ann", "wrong")
    with pytest.raises(Unavailable, match="cannot be reached"):
        await sync.connect(caldav_base + "ann/missing/", "ann", USERS["ann"])
    with pytest.raises(Unavailable, match="cannot be reached"):
        await sync.connect("http://127.0.0.1:1/dav/", "ann", USERS["ann"])
    accounts = (await keyed.session.exec(select(CalendarAccount))).all()
    assert accounts == []


async def test_password_is_not_stored_in_the_clear(keyed: SkillContext, calendar_url: str) -> None:
    account = await CalendarSync(keyed, loopback).connect(calendar_url, "ann", USERS["ann"])
    assert USERS["ann"] not in account.password_sealed
