"""Repeating-event rules and calendar files a hostile user sends: refused with a clear
4xx on the way in, and a bad rule already stored never hangs or fails a query."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx

from agent.services import Services
from store.database import session_scope
from store.models import Event, User

MARCH = {"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}
YEAR = {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}
# Any of these, once stored, used to hang the next query for an hour or fail it for good.
BAD_RULES = {
    "FREQ=SECONDLY;INTERVAL=0": "at most once an hour",
    "FREQ=SECONDLY": "at most once an hour",
    "FREQ=MINUTELY;INTERVAL=5": "at most once an hour",
    "FREQ=HOURLY;BYMINUTE=0,30": "at most once an hour",
    "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12;BYMINUTE=0,30": "at most once an hour",
    "FREQ=DAILY;COUNT=-1": "COUNT must be a whole number",
    "FREQ=DAILY;COUNT=0": "COUNT must be a whole number",
    "FREQ=DAILY;INTERVAL=0": "INTERVAL must be a whole number",
    "FREQ=WEEKLY;INTERVAL=-2": "INTERVAL must be a whole number",
    "FREQ=DAILY;UNTIL=tomorrow": "not valid",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30": "never happens",
}


def ics(*events: str) -> bytes:
    body = "".join(
        "BEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTART:20260302T140000Z\r\nDTEND:20260302T150000Z\r\n"
        f"SUMMARY:{uid}\r\n{rule and f'RRULE:{rule}' + chr(13) + chr(10)}END:VEVENT\r\n"
        for uid, rule in (e.split("|") for e in events)
    )
    calendar = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n{body}END:VCALENDAR\r\n"
    return calendar.encode()


async def test_bad_rules_are_refused_on_every_way_in(client: httpx.AsyncClient, auth: dict) -> None:
    start = {"title": "Pulse", "start_at": "2026-03-02T09:00:00-05:00"}
    made = await client.post("/v1/events", headers=auth, json=start)
    assert made.status_code == 201
    for rule, message in BAD_RULES.items():
        created = await client.post("/v1/events", headers=auth, json={**start, "recurrence": rule})
        assert created.status_code == 422, rule
        assert message in created.json()["detail"], (rule, created.text)
        changed = await client.patch(
            f"/v1/events/{made.json()['id']}", headers=auth, json={"recurrence": rule}
        )
        assert changed.status_code == 422, rule
        imported = await client.post(
            "/v1/calendar.ics", headers=auth, content=ics("good|", f"bad|{rule}")
        )
        assert imported.status_code == 422, rule
        assert "“bad”" in imported.json()["detail"] and message in imported.json()["detail"]
    # All or nothing: the good event of each refused file was not kept either.
    found = (await client.get("/v1/events", headers=auth, params=MARCH)).json()
    assert [e["title"] for e in found] == ["Pulse"]


async def test_hourly_is_allowed_and_bounded(client: httpx.AsyncClient, auth: dict) -> None:
    hourly = {
        "title": "Stretch",
        "start_at": "1990-01-01T09:00:00Z",
        "duration_minutes": 5,
        "recurrence": "FREQ=HOURLY",
        "timezone": "UTC",
    }
    assert (await client.post("/v1/events", headers=auth, json=hourly)).status_code == 201
    started = time.perf_counter()
    found = await asyncio.wait_for(client.get("/v1/events", headers=auth, params=YEAR), 10)
    # 36 years of hourly history are skipped over, not stepped through one by one.
    assert found.status_code == 200
    assert len(found.json()) == 365 * 24
    assert time.perf_counter() - started < 5


async def store_raw(services: Services, user: User, title: str, rule: str | None) -> Event:
    """An event written straight to the database, as one saved before rules were checked."""
    async with session_scope(services.sessions) as session:
        event = Event(
            user_id=user.id,
            title=title,
            start_at=datetime(2026, 3, 2, 14, tzinfo=UTC),
            end_at=datetime(2026, 3, 2, 15, tzinfo=UTC),
            timezone="America/Chicago",
            recurrence=rule,
        )
        session.add(event)
    return event


async def test_a_stored_bad_rule_is_skipped_not_followed(
    client: httpx.AsyncClient, auth: dict, services: Services, user: User
) -> None:
    skipped = {
        str((await store_raw(services, user, f"Bad {n}", rule)).id)
        for n, rule in enumerate(["FREQ=SECONDLY;INTERVAL=0", "FREQ=DAILY;COUNT=-1", "NONSENSE"])
    }
    await store_raw(services, user, "Lunch", None)

    async def ask(path: str, params: dict) -> httpx.Response:
        # Bounded: a regression fails here instead of hanging the run.
        return await asyncio.wait_for(client.get(path, headers=auth, params=params), 10)

    found = await ask("/v1/events", MARCH)
    assert found.status_code == 200
    assert [e["title"] for e in found.json()] == ["Lunch"]
    assert set(found.headers["X-Skipped-Events"].split(",")) == skipped
    assert (await ask("/v1/events/conflicts", MARCH)).status_code == 200
    slots = await ask(
        "/v1/events/free",
        {"duration_minutes": 30, "start": "2030-03-04T00:00:00Z", "end": "2030-03-06T00:00:00Z"},
    )
    assert slots.status_code == 200 and slots.json()
    asked = await asyncio.wait_for(
        client.post("/v1/converse", headers=auth, json={"text": "what's on my calendar today"}),
        10,
    )
    assert asked.status_code == 200


async def test_the_stored_rule_can_be_mended(
    client: httpx.AsyncClient, auth: dict, services: Services, user: User
) -> None:
    event = await store_raw(services, user, "Broken", "FREQ=SECONDLY")
    other = await client.patch(f"/v1/events/{event.id}", headers=auth, json={"title": "Still"})
    assert other.status_code == 422 and "at most once an hour" in other.json()["detail"]
    mended = await client.patch(
        f"/v1/events/{event.id}", headers=auth, json={"recurrence": "FREQ=WEEKLY"}
    )
    assert mended.status_code == 200
    found = (await client.get("/v1/events", headers=auth, params=MARCH)).json()
    assert [e["start_at"][:10] for e in found] == [
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
        "2026-03-30",
    ]


async def test_too_many_occurrences_in_one_query_is_a_clear_refusal(
    client: httpx.AsyncClient, auth: dict
) -> None:
    for n in range(2):
        hourly = {
            "title": f"Ping {n}",
            "start_at": "2026-01-01T00:00:00Z",
            "duration_minutes": 5,
            "recurrence": "FREQ=HOURLY",
            "timezone": "UTC",
        }
        assert (await client.post("/v1/events", headers=auth, json=hourly)).status_code == 201
    found = await asyncio.wait_for(client.get("/v1/events", headers=auth, params=YEAR), 10)
    assert found.status_code == 422
    assert "more than 10,000 occurrences" in found.json()["detail"]
    shorter = await client.get("/v1/events", headers=auth, params=MARCH)
    assert shorter.status_code == 200 and len(shorter.json()) == 2 * 31 * 24


async def test_a_uid_twice_in_one_file_is_refused(client: httpx.AsyncClient, auth: dict) -> None:
    twice = await client.post("/v1/calendar.ics", headers=auth, content=ics("same|", "same|"))
    assert twice.status_code == 422
    assert "two events with the UID 'same'" in twice.json()["detail"]


async def test_calendar_files_with_unstorable_text_or_times_are_refused(
    client: httpx.AsyncClient, auth: dict
) -> None:
    nul = ics("good|").replace(b"SUMMARY:good", b"SUMMARY:go\x00od")
    refused = await client.post("/v1/calendar.ics", headers=auth, content=nul)
    assert refused.status_code == 422 and "NUL character" in refused.json()["detail"]
    late = ics("late|").replace(b"DTEND:20260302T150000Z", b"DURATION:P99999999W")
    refused = await client.post("/v1/calendar.ics", headers=auth, content=late)
    assert refused.status_code == 422 and "“late”" in refused.json()["detail"]
    ancient = ics("old|").replace(b"DTSTART:20260302", b"DTSTART:05000302")
    refused = await client.post("/v1/calendar.ics", headers=auth, content=ancient)
    assert refused.status_code == 422
    assert "between the years 1000 and 8999" in refused.json()["detail"]
    assert (await client.get("/v1/events", headers=auth, params=MARCH)).json() == []


async def test_clashes_are_capped(client: httpx.AsyncClient, auth: dict) -> None:
    smear = {
        "title": "Smear",
        "start_at": "2026-01-01T00:00:00Z",
        "duration_minutes": 2 * 24 * 60,  # each hourly instance overlaps the next 47
        "recurrence": "FREQ=HOURLY",
        "timezone": "UTC",
    }
    assert (await client.post("/v1/events", headers=auth, json=smear)).status_code == 201
    found = await asyncio.wait_for(
        client.get("/v1/events/conflicts", headers=auth, params=YEAR), 10
    )
    assert found.status_code == 422
    assert "more than 1,000 clashes" in found.json()["detail"]
    slots = await asyncio.wait_for(
        client.get(
            "/v1/events/free",
            headers=auth,
            params={"duration_minutes": 30, "start": YEAR["start"], "end": YEAR["end"]},
        ),
        10,
    )
    assert slots.status_code == 200 and slots.json() == []


async def test_one_request_has_one_budget_for_all_its_rules(
    client: httpx.AsyncClient, auth: dict
) -> None:
    # Each rule counts from its start (a COUNT cannot be skipped ahead): ~19,000 hourly
    # steps to reach March 2026. One alone is fine; a dozen are more than a request may do.
    for n in range(12):
        counted = {
            "title": f"Counted {n}",
            "start_at": "2024-01-01T00:00:00Z",
            "duration_minutes": 5,
            "recurrence": "FREQ=HOURLY;COUNT=100000",
            "timezone": "UTC",
        }
        assert (await client.post("/v1/events", headers=auth, json=counted)).status_code == 201
    day = {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}
    found = await asyncio.wait_for(client.get("/v1/events", headers=auth, params=day), 10)
    assert found.status_code == 422
    assert "too many repeating events to expand at once" in found.json()["detail"]


async def test_a_series_ending_at_a_utc_until_imports_and_ends_there(
    client: httpx.AsyncClient, auth: dict
) -> None:
    # RFC 5545: with a zoned DTSTART, UNTIL is given in UTC. It used to be refused.
    series = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:weekly\r\n"
        "DTSTART;TZID=America/New_York:20260302T090000\r\nDURATION:PT30M\r\nSUMMARY:Sync\r\n"
        "RRULE:FREQ=WEEKLY;UNTIL=20260316T140000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    imported = await client.post("/v1/calendar.ics", headers=auth, content=series.encode())
    assert imported.status_code == 200, imported.text
    found = (await client.get("/v1/events", headers=auth, params=MARCH)).json()
    assert [e["start_at"] for e in found] == [
        "2026-03-02T14:00:00Z",
        "2026-03-09T13:00:00Z",  # daylight saving time began: still 9:00 in New York
        "2026-03-16T13:00:00Z",
    ]
