"""The one check every repeating rule passes, and expansion that skips ahead."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from dateutil.rrule import rrulestr
from sqlmodel import select

from skills.calendar.sync import CalendarSync
from skills.context import SkillContext, SkillError
from skills.recurrence import (
    Budget,
    RequestTooCostly,
    RuleTooCostly,
    normalize_rule,
    occurrences,
    parse_rule,
)
from skills.sealing import KeyRing
from store.models import Event
from tests.radicale_server import USERS, loopback

START = datetime(2001, 1, 31, 9, 30)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY;INTERVAL=5",
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=DAILY;BYHOUR=9,17;BYDAY=MO,WE",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=MONTHLY",  # starts on the 31st: skips short months
        "FREQ=MONTHLY;BYDAY=2MO",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=DAILY;UNTIL=20260315T000000",
    ],
)
@pytest.mark.parametrize("start", [START, datetime(1999, 11, 15, 18)])
def test_skipping_ahead_finds_exactly_what_stepping_through_finds(
    rule: str, start: datetime
) -> None:
    window = (datetime(2026, 3, 1), datetime(2026, 4, 1))
    length = timedelta(hours=2)
    stepped = rrulestr(rule, dtstart=start).between(window[0] - length, window[1], inc=True)
    expected = [m for m in stepped if m + length > window[0] and m < window[1]]
    assert occurrences(rule, start, length, window) == expected


def test_rules_are_normalized() -> None:
    assert normalize_rule("rrule:freq=weekly;byday=mo", START) == "FREQ=WEEKLY;BYDAY=MO"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "empty"),
        ("FREQ", "not NAME=VALUE"),
        ("INTERVAL=2", "no FREQ"),
        ("FREQ=SECONDLY;INTERVAL=0", "at most once an hour"),
        ("FREQ=DAILY;COUNT=99999999", "COUNT must be a whole number from 1 to 100,000"),
        ("FREQ=DAILY;BYSETPOS=2", "BYSETPOS is not supported"),
        ("FREQ=DAILY;BYYEARDAY=60;BYMONTH=6", "BYYEARDAY cannot be used with FREQ=DAILY"),
        ("FREQ=MONTHLY;BYWEEKNO=20", "BYWEEKNO cannot be used with FREQ=MONTHLY"),
        ("FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31", "never happens"),
        ("FREQ=DAILY;BYDAY=XX", "not valid"),
    ],
)
def test_bad_rules_name_the_problem(rule: str, message: str) -> None:
    with pytest.raises(SkillError, match=message):
        parse_rule(rule, START)


def test_a_rule_needing_too_much_work_is_refused_not_followed() -> None:
    # A COUNT cannot be skipped ahead (it counts from the first one): 15 years of
    # hourly occurrences before the window are more than one query may step through.
    with pytest.raises(RuleTooCostly):
        occurrences(
            "FREQ=HOURLY;COUNT=100000",
            datetime(2014, 1, 1),
            timedelta(minutes=5),
            (datetime(2026, 3, 1), datetime(2026, 3, 2)),
        )


async def test_a_caldav_event_with_a_bad_rule_is_not_pulled(
    ctx: SkillContext, calendar_url: str
) -> None:
    ctx.keys = KeyRing.single(bytes(range(32)))
    sync = CalendarSync(ctx, loopback)
    await sync.connect(calendar_url, "ann", USERS["ann"])
    async with loopback(calendar_url, "ann", USERS["ann"]) as phone:
        await phone.put(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//another client//EN\r\n"
            "BEGIN:VEVENT\r\nUID:storm\r\nDTSTAMP:20260301T000000Z\r\n"
            "DTSTART:20260311T230000Z\r\nDTEND:20260311T230100Z\r\nSUMMARY:Storm\r\n"
            "RRULE:FREQ=SECONDLY;INTERVAL=1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    report = await asyncio.wait_for(sync.sync(), 30)
    assert report.error is not None and "“Storm”" in report.error
    assert "at most once an hour" in report.error
    stored = await ctx.session.exec(select(Event).where(Event.user_id == ctx.user_id))
    assert stored.all() == []


def test_all_rules_of_one_request_share_one_budget() -> None:
    budget = Budget(steps=30_000)
    window = (datetime(2026, 3, 1), datetime(2026, 3, 2))
    # Each rule alone is within its own cap (15,000 steps to reach the window)...
    rule = "FREQ=HOURLY;COUNT=20000"
    start = datetime(2026, 3, 1) - timedelta(hours=15_000)
    occurrences(rule, start, timedelta(minutes=5), window, budget)
    # ...but the second one of the same request runs the request's budget out.
    with pytest.raises(RequestTooCostly, match="too many repeating events"):
        occurrences(rule, start, timedelta(minutes=5), window, budget)
