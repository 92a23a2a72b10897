"""/v1/events, the calendar file and CalDAV settings through HTTP."""

from __future__ import annotations

import httpx

from agent.services import Services
from tests.radicale_server import USERS

WEEK = {"start": "2026-03-02T00:00:00-05:00", "end": "2026-03-23T00:00:00-05:00"}


async def test_calendar_over_http(client: httpx.AsyncClient, auth: dict) -> None:
    standup = (
        await client.post(
            "/v1/events",
            headers=auth,
            json={
                "title": "Standup",
                "start_at": "2026-03-02T09:00:00-05:00",
                "duration_minutes": 30,
                "recurrence": "FREQ=WEEKLY;BYDAY=MO",
                "timezone": "America/New_York",
            },
        )
    ).json()
    call = await client.post(
        "/v1/events",
        headers=auth,
        json={
            "title": "Client call",
            "start_at": "2026-03-09T09:15:00-04:00",
            "duration_minutes": 60,
        },
    )
    assert call.status_code == 201

    found = (await client.get("/v1/events", headers=auth, params=WEEK)).json()
    assert [(e["title"], e["start_at"][:16]) for e in found] == [
        ("Standup", "2026-03-02T14:00"),
        ("Standup", "2026-03-09T13:00"),  # after the DST change: still 9:00 in New York
        ("Client call", "2026-03-09T13:15"),
        ("Standup", "2026-03-16T13:00"),
    ]
    clashes = (await client.get("/v1/events/conflicts", headers=auth, params=WEEK)).json()
    assert [(c["first"]["title"], c["second"]["title"]) for c in clashes] == [
        ("Standup", "Client call")
    ]

    cancelled = await client.delete(
        f"/v1/events/{standup['id']}", headers=auth, params={"occurrence": "2026-03-16T13:00:00Z"}
    )
    assert cancelled.status_code == 204
    assert len((await client.get("/v1/events", headers=auth, params=WEEK)).json()) == 3

    slots = await client.get(
        "/v1/events/free",
        headers=auth,
        params={
            "duration_minutes": 30,
            "start": "2030-03-04T00:00:00Z",
            "end": "2030-03-06T00:00:00Z",
            "prefer": "afternoon",
        },
    )
    assert slots.status_code == 200 and len(slots.json()) == 5

    exported = await client.get("/v1/calendar.ics", headers=auth)
    assert exported.headers["content-type"].startswith("text/calendar")
    assert b"SUMMARY:Client call" in exported.content
    reimported = await client.post("/v1/calendar.ics", headers=auth, content=exported.content)
    # Events made here get their export UID on first import, so they come back as copies
    # only once; a second import of the same file changes nothing.
    again = await client.post("/v1/calendar.ics", headers=auth, content=exported.content)
    assert again.json() == {"created": 0, "updated": 0, "unchanged": reimported.json()["created"]}


async def test_bad_calendar_input_names_the_problem(client: httpx.AsyncClient, auth: dict) -> None:
    bad_events = [
        (
            {"title": "x", "start_at": "2026-03-05T10:00:00Z", "end_at": "2026-03-05T09:00:00Z"},
            "end after it starts",
        ),
        (
            {"title": "x", "start_at": "2026-03-05T10:00:00Z", "duration_minutes": 0},
            "more than zero",
        ),
        (
            {"title": "x", "start_at": "2026-03-05T10:00:00Z", "timezone": "Mars/Base"},
            "unknown time zone",
        ),
        (
            {"title": "x", "start_at": "2026-03-05T10:00:00Z", "recurrence": "FREQ=NEVER"},
            "not valid",
        ),
    ]
    for body, message in bad_events:
        response = await client.post("/v1/events", headers=auth, json=body)
        assert response.status_code == 422, body
        assert message in response.text, (body, response.text)

    too_long = {"start": "2026-01-01T00:00:00Z", "end": "2028-01-01T00:00:00Z"}
    response = await client.get("/v1/events", headers=auth, params=too_long)
    assert response.status_code == 422 and "366 days" in response.text

    for content, code, message in [
        (b"garbage", 422, "not a valid iCalendar"),
        (b"", 422, "empty"),
        (b"BEGIN:VCALENDAR\n" + b"X" * (5 * 1024 * 1024 + 1), 413, "larger than 5 MB"),
    ]:
        response = await client.post("/v1/calendar.ics", headers=auth, content=content)
        assert response.status_code == code
        assert message in response.text
    assert (await client.get("/v1/events", headers=auth, params=WEEK)).json() == []


async def test_caldav_settings_and_sync(
    client: httpx.AsyncClient, auth: dict, calendar_url: str, services: Services
) -> None:
    services.settings.caldav_allow_private = True  # the test server is on loopback
    refused = await client.put(
        "/v1/calendar/caldav",
        headers=auth,
        json={"url": calendar_url, "username": "ann", "password": "nope"},
    )
    assert refused.status_code == 422 and "refused the username or password" in refused.text
    assert (await client.get("/v1/calendar/caldav", headers=auth)).status_code == 404

    dead = await client.put(
        "/v1/calendar/caldav",
        headers=auth,
        json={"url": "http://127.0.0.1:1/dav/", "username": "a", "password": "b"},
    )
    assert dead.status_code == 502 and "cannot be reached" in dead.text

    ok = await client.put(
        "/v1/calendar/caldav",
        headers=auth,
        json={"url": calendar_url, "username": "ann", "password": USERS["ann"]},
    )
    assert ok.status_code == 200 and "password" not in ok.json()
    await client.post(
        "/v1/events", headers=auth, json={"title": "Synced", "start_at": "2026-03-05T10:00:00Z"}
    )
    first = await client.post("/v1/calendar/caldav/sync", headers=auth)
    assert first.status_code == 200
    assert first.json()["pushed"]["created"] == 1
    second = await client.post("/v1/calendar/caldav/sync", headers=auth)
    assert second.json()["pushed"] == {"created": 0, "updated": 0, "deleted": 0}
    assert (await client.get("/v1/calendar/caldav", headers=auth)).json()["last_synced_at"]


async def test_another_user_gets_404_on_every_event_path(
    client: httpx.AsyncClient, auth: dict, intruder: dict
) -> None:
    event = (
        await client.post(
            "/v1/events",
            headers=auth,
            json={"title": "Private", "start_at": "2026-03-05T10:00:00Z"},
        )
    ).json()
    for attempt in (
        client.get(f"/v1/events/{event['id']}", headers=intruder),
        client.patch(f"/v1/events/{event['id']}", headers=intruder, json={"title": "pwned"}),
        client.delete(f"/v1/events/{event['id']}", headers=intruder),
    ):
        assert (await attempt).status_code == 404
    assert (await client.get("/v1/events", headers=intruder, params=WEEK)).json() == []
    assert b"Private" not in (await client.get("/v1/calendar.ics", headers=intruder)).content
    assert (await client.get("/v1/calendar/caldav", headers=intruder)).status_code == 404
    assert (await client.get(f"/v1/events/{event['id']}", headers=auth)).json()[
        "title"
    ] == "Private"
