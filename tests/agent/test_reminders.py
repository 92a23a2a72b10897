"""Reminders that fire: the scheduler stepped with run_due(now), on both databases,
through the real API, the conversation and a recording channel of the same interface."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from agent.reminders.channels import Channels, DeliveryResult, DueReminder, WebPageChannel
from agent.reminders.scheduler import Scheduler
from agent.services import Services
from store.database import session_scope
from store.models import User

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Recorder:
    """A channel that reaches the user (or not) and remembers what it was given."""

    name: str = "sms"
    reachable: bool = True
    session_id: str | None = None
    got: list[str] = field(default_factory=list)

    async def deliver(self, reminder: DueReminder, user: User) -> DeliveryResult:
        if not self.reachable:
            return DeliveryResult.unreachable("texts stopped")
        self.got.append(reminder.text)
        return DeliveryResult.delivered(self.session_id)


def scheduler(services: Services, *channels: Recorder, web: bool = False) -> Scheduler:
    registry = Channels(channels)
    if web:
        registry.register(WebPageChannel(lambda: services.cluster))
    return Scheduler(services.sessions, registry, missed_after=timedelta(hours=12))


async def prefer(services: Services, user: User, channels: list[str]) -> None:
    async with session_scope(services.sessions) as db:
        row = await db.get(User, user.id)
        assert row is not None
        row.settings = {**row.settings, "reminder_channels": channels}
        db.add(row)


async def add_task(client: httpx.AsyncClient, auth: dict, title: str, at: datetime) -> dict:
    body = {"title": title, "remind_at": at.isoformat(), "due_at": at.isoformat()}
    response = await client.post("/v1/tasks", headers=auth, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def reminders(client: httpx.AsyncClient, auth: dict, **params: str) -> list[dict]:
    response = await client.get("/v1/reminders", headers=auth, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_task_reminder_fires_once_at_its_time_and_is_logged(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms"])
    sms = Recorder()
    steps = scheduler(services, sms)
    await add_task(client, auth, "call mom", NOW + timedelta(minutes=5))
    assert await steps.run_due(NOW) == []
    assert sms.got == []
    await steps.run_due(NOW + timedelta(minutes=5))
    await steps.run_due(NOW + timedelta(minutes=6))  # again: nothing new
    assert sms.got == ["Reminder: call mom."]
    [fired] = await reminders(client, auth)
    assert fired["status"] == "delivered" and fired["channel"] == "sms"
    assert [(a["channel"], a["result"]) for a in fired["attempts"]] == [("sms", "delivered")]


async def test_one_due_while_the_service_was_down_is_delivered_on_start_saying_when(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms"])
    due = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # 12:00 PM in Chicago, the user's zone
    await add_task(client, auth, "call mom", due)
    sms = Recorder()
    # The service comes back three hours later: a new process, a new scheduler.
    await scheduler(services, sms).run_due(due + timedelta(hours=3))
    await scheduler(services, sms).run_due(due + timedelta(hours=3, seconds=5))
    assert sms.got == ["This was due at 12:00 PM: call mom."]


async def test_one_due_before_midnight_and_delivered_after_says_yesterday(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms"])
    due = datetime(2026, 12, 1, 5, 50, tzinfo=UTC)  # 11:50 PM in Chicago
    await add_task(client, auth, "call mom", due)
    sms = Recorder()
    await scheduler(services, sms).run_due(due + timedelta(minutes=30))  # 12:20 AM there
    assert sms.got == ["This was due yesterday at 11:50 PM: call mom."]


async def test_past_the_limit_it_is_reported_as_missed_not_fired(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms"])
    sms = Recorder()
    await add_task(client, auth, "water the plants", NOW - timedelta(hours=13))
    await scheduler(services, sms).run_due(NOW)
    assert sms.got == []
    [missed] = await reminders(client, auth, status="missed")
    assert missed["title"] == "water the plants"
    assert missed["attempts"][0]["result"] == "missed"


async def test_channels_are_tried_in_the_users_order_and_an_unreached_one_stays_visible(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms", "web"])
    stopped = Recorder(reachable=False)
    await add_task(client, auth, "pay rent", NOW)
    await scheduler(services, stopped, web=True).run_due(NOW)  # and no page is open
    [unreached] = await reminders(client, auth, status="unreached")
    results = [(a["channel"], a["result"]) for a in unreached["attempts"]]
    assert results == [("sms", "unreachable"), ("web", "unreachable"), (None, "unreached")]
    assert unreached["attempts"][1]["error"] == "no open page"


async def test_a_changed_or_finished_task_is_not_reminded_at_the_old_time(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms"])
    sms = Recorder()
    steps = scheduler(services, sms)
    moved = await add_task(client, auth, "book flights", NOW)
    done = await add_task(client, auth, "buy stamps", NOW + timedelta(minutes=1))
    later = (NOW + timedelta(hours=1)).isoformat()
    await client.patch(f"/v1/tasks/{moved['id']}", headers=auth, json={"remind_at": later})
    await client.patch(f"/v1/tasks/{done['id']}", headers=auth, json={"status": "done"})
    await steps.run_due(NOW + timedelta(minutes=2))
    assert sms.got == []
    await steps.run_due(NOW + timedelta(hours=1))
    assert sms.got == ["Reminder: book flights."]


async def test_a_repeating_task_rolls_forward_and_reminds_again(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms"])
    sms = Recorder()
    steps = scheduler(services, sms)
    start = NOW - timedelta(minutes=1)
    body = {
        "title": "take vitamins",
        "due_at": start.isoformat(),
        "remind_at": start.isoformat(),
        "recurrence": "FREQ=DAILY",
    }
    task = (await client.post("/v1/tasks", headers=auth, json=body)).json()
    await steps.run_due(NOW)
    await client.post(f"/v1/tasks/{task['id']}/complete", headers=auth)
    rolled = (await client.get(f"/v1/tasks/{task['id']}", headers=auth)).json()
    next_time = datetime.fromisoformat(rolled["remind_at"])
    assert next_time - start == timedelta(days=1)
    await steps.run_due(next_time)
    assert sms.got == ["Reminder: take vitamins.", "Reminder: take vitamins."]


async def test_event_alerts_use_the_users_lead_or_the_events_own(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms"])
    sms = Recorder()
    steps = scheduler(services, sms)
    start = NOW + timedelta(hours=2)
    for title, extra in (("Dentist", {}), ("Flight", {"alert_minutes": 60})):
        body = {"title": title, "start_at": start.isoformat(), **extra}
        response = await client.post("/v1/events", headers=auth, json=body)
        assert response.status_code == 201, response.text
    await steps.run_due(start - timedelta(minutes=61))
    assert sms.got == []
    await steps.run_due(start - timedelta(minutes=60))
    assert len(sms.got) == 1 and sms.got[0].startswith("Flight starts in 60 minutes, at ")
    await steps.run_due(start - timedelta(minutes=10))
    assert len(sms.got) == 2 and sms.got[1].startswith("Dentist starts in 10 minutes, at ")


async def test_after_a_reminder_the_user_can_snooze_it_undo_that_and_say_done(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms"])
    sms = Recorder(session_id="sms-thread")
    steps = scheduler(services, sms)
    real_now = datetime.now(UTC)
    task = await add_task(client, auth, "call mom", real_now - timedelta(seconds=30))
    await steps.run_due(real_now)
    assert sms.got == ["Reminder: call mom."]

    async def say(text: str) -> str:
        body = {"text": text, "session_id": "sms-thread"}
        response = await client.post("/v1/converse", headers=auth, json=body)
        assert response.status_code == 200, response.text
        return response.json()["reply"]

    assert await say("snooze ten minutes") == "Okay, I'll remind you again in 10 minutes."
    await steps.run_due(real_now + timedelta(minutes=10, seconds=5))
    assert sms.got == ["Reminder: call mom.", "Reminder: call mom."]
    tomorrow = await say("remind me tomorrow instead")
    assert tomorrow.startswith("Okay, I'll remind you again tomorrow at ")
    assert (await say("undo")).startswith("Undone")
    assert [r["origin"] for r in await reminders(client, auth)].count("snooze") == 1
    assert await say("done") == "Marked call mom as done."
    stored = (await client.get(f"/v1/tasks/{task['id']}", headers=auth)).json()
    assert stored["status"] == "done"


@pytest.mark.parametrize("channels", [["pager"], "web"])
async def test_unknown_reminder_channels_are_refused(
    client: httpx.AsyncClient, auth: dict, channels: object
) -> None:
    body = {"reminder_channels": channels}
    response = await client.patch("/v1/me/settings", headers=auth, json=body)
    assert response.status_code == 422


async def test_a_reminder_arrives_over_the_open_voice_socket_shown_and_spoken(
    services: Services, auth: dict, user: User, voice_models: tuple
) -> None:
    """The real server, its lifespan running the scheduler, and the page's socket."""
    import asyncio
    import json

    from websockets.asyncio.client import connect

    from agent.app import create_app
    from tests.local_server import serve

    services._voice = voice_models
    services.scheduler = Scheduler(services.sessions, services.channels, interval=0.1)
    token = auth["Authorization"].split()[1]
    app = create_app(services=services)
    # The loopback server leaves lifespans off; the app's own runs the scheduler here.
    async with app.router.lifespan_context(app), serve(app) as url:
        socket_url = url.replace("http://", "ws://") + f"/v1/voice?token={token}&session=page-1"
        async with connect(socket_url) as socket, httpx.AsyncClient(base_url=url) as client:
            assert json.loads(await socket.recv())["type"] == "ready"
            soon = datetime.now(UTC) + timedelta(seconds=1)
            await add_task(client, auth, "call mom", soon)
            events, audio = [], 0
            while not events or events[-1]["type"] != "audio_end":
                message = await asyncio.wait_for(socket.recv(), timeout=30)
                if isinstance(message, bytes):
                    audio += len(message)
                else:
                    events.append(json.loads(message))
            reply = await client.post(
                "/v1/converse", headers=auth, json={"text": "done", "session_id": "page-1"}
            )
            assert reply.json()["reply"] == "Marked call mom as done."
    assert services.scheduler._task is None  # stopped with the app
    shown = next(e for e in events if e["type"] == "reminder")
    assert shown["text"] == "Reminder: call mom." and shown["title"] == "call mom"
    assert next(e for e in events if e["type"] == "reply")["text"] == "Reminder: call mom."
    assert audio / 2 / 16000 > 0.5  # spoken: over half a second of reply audio


async def test_two_scheduler_processes_on_postgresql_deliver_each_reminder_once(
    services: Services, user: User, backend: str
) -> None:
    """Two real processes claim from the same rows at the same moment."""
    import asyncio
    import sys
    import time

    from sqlalchemy import func
    from sqlmodel import select

    from store.models import DeliveryAttempt, Task

    if backend != "postgresql":
        pytest.skip("several service processes share a database only on PostgreSQL")
    await prefer(services, user, ["sms"])
    async with session_scope(services.sessions) as db:
        for n in range(300):
            at = NOW - timedelta(minutes=5, seconds=n)
            db.add(Task(user_id=user.id, title=f"task {n}", remind_at=at))
    url = services.engine.url.render_as_string(hide_password=False)
    start_at = time.time() + 3  # both loaded and waiting before the race starts
    runs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.agent.race_scheduler",
            url,
            str(start_at),
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [await run.communicate() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    handled = [int(out.decode().split()[-1]) for out, _ in outputs]
    async with services.sessions() as db:
        per_reminder = list(
            await db.exec(
                select(func.count())
                .select_from(DeliveryAttempt)
                .where(DeliveryAttempt.result == "delivered")
                .group_by(DeliveryAttempt.reminder_id)
            )
        )
    assert len(per_reminder) == 300 and set(per_reminder) == {1}
    assert sum(handled) == 300 and min(handled) > 0, handled  # both took a share


async def test_a_reminder_due_while_the_service_was_down_reaches_the_page_on_start_once(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User, voice_models: tuple
) -> None:
    """The service starts (its lifespan runs the scheduler) three hours after a
    reminder's time; the page reconnects and hears it, once, saying when it was due.
    A second restart delivers nothing again."""
    import asyncio
    import json

    from websockets.asyncio.client import connect

    from agent.app import create_app
    from tests.local_server import serve

    due = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    await add_task(client, auth, "call mom", due)  # stored before the service went down
    token = auth["Authorization"].split()[1]
    heard: list[list[dict]] = []
    for start in range(2):
        services._voice = voice_models
        services.scheduler = Scheduler(services.sessions, services.channels, interval=0.1)
        app = create_app(services=services)
        async with app.router.lifespan_context(app), serve(app) as url:
            await asyncio.sleep(0.3)  # the first rounds run before the page reconnects
            socket_url = url.replace("http://", "ws://") + f"/v1/voice?token={token}"
            events: list[dict] = []
            async with connect(socket_url) as socket:
                # First start: until the spoken reminder ends. Second: anything at all.
                wait = 30 if start == 0 else 3
                with contextlib.suppress(TimeoutError):
                    while not events or events[-1]["type"] != "audio_end":
                        message = await asyncio.wait_for(socket.recv(), timeout=wait)
                        if isinstance(message, str):
                            events.append(json.loads(message))
            heard.append(events)
    zone = ZoneInfo("America/Chicago")
    local = due.astimezone(zone)
    # Three hours ago may be yesterday in Chicago: then the day is said too.
    day = "at" if local.date() == datetime.now(zone).date() else "yesterday at"
    expected = f"This was due {day} {local.hour % 12 or 12}:{local.minute:02d} "
    expected += f"{'AM' if local.hour < 12 else 'PM'}: call mom."
    first, second = ([e for e in events if e["type"] == "reminder"] for events in heard)
    assert [e["text"] for e in first] == [expected] and second == []
    assert [e["text"] for e in heard[0] if e["type"] == "reply"] == [expected]
    [reminder] = await reminders(client, auth)
    results = [(a["channel"], a["result"]) for a in reminder["attempts"]]
    # On start no page was open yet (and no phone number to text or call); when it
    # connected, the reminder went out to it.
    assert results == [
        ("web", "unreachable"),
        ("sms", "unreachable"),
        ("call", "unreachable"),
        (None, "unreached"),
        ("web", "delivered"),
    ]


async def test_remind_me_minutes_before_an_event_said_in_the_conversation(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms"])
    sms = Recorder()
    start = (NOW + timedelta(days=1)).replace(minute=0, second=0)
    body = {"title": "Dentist", "start_at": start.isoformat()}
    event = (await client.post("/v1/events", headers=auth, json=body)).json()

    async def say(text: str) -> str:
        body = {"text": text, "session_id": "alerts"}
        return (await client.post("/v1/converse", headers=auth, json=body)).json()["reply"]

    assert await say("remind me 30 minutes before the dentist") == (
        "Okay, I'll remind you 30 minutes before Dentist."
    )
    stored = (await client.get(f"/v1/events/{event['id']}", headers=auth)).json()
    assert stored["alert_minutes"] == 30
    assert (
        await say("remind me an hour before it") == "Okay, I'll remind you an hour before Dentist."
    )
    await scheduler(services, sms).run_due(start - timedelta(minutes=60))
    assert sms.got == [sms.got[0]] and sms.got[0].startswith("Dentist starts in 60 minutes")
    assert (await say("undo")).startswith("Undone")
    stored = (await client.get(f"/v1/events/{event['id']}", headers=auth)).json()
    assert stored["alert_minutes"] == 30


async def test_a_cancelled_occurrence_of_a_repeating_event_gets_no_alert(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    await prefer(services, user, ["sms"])
    sms = Recorder()
    steps = scheduler(services, sms)
    first = (NOW + timedelta(hours=1)).replace(minute=0, second=0)
    body = {"title": "Standup", "start_at": first.isoformat(), "recurrence": "FREQ=DAILY"}
    event = (await client.post("/v1/events", headers=auth, json=body)).json()
    await steps.run_due(first - timedelta(minutes=10))
    assert len(sms.got) == 1 and sms.got[0].startswith("Standup starts in 10 minutes")
    second = first + timedelta(days=1)
    # Planned a moment ahead, then that day's standup is called off before its alert.
    await steps.run_due(second - timedelta(minutes=10, seconds=1))
    cancel = await client.delete(
        f"/v1/events/{event['id']}", headers=auth, params={"occurrence": second.isoformat()}
    )
    assert cancel.status_code == 204, cancel.text
    await steps.run_due(second - timedelta(minutes=10))
    assert len(sms.got) == 1
    dropped = await reminders(client, auth, status="dropped")
    assert [r["occurs_at"] for r in dropped] == [second.isoformat().replace("+00:00", "Z")]


async def test_without_twilio_or_a_phone_number_texts_and_calls_are_unreachable(
    services: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    """The service's own channels with their default order: no Twilio configured here,
    and at first a user without a phone number."""
    steps = Scheduler(services.sessions, services.channels)
    await add_task(client, auth, "water the plants", NOW - timedelta(seconds=5))
    await steps.run_due(NOW)
    async with session_scope(services.sessions) as db:
        row = await db.get(User, user.id)
        assert row is not None
        row.phone = "+14155550123"
    await add_task(client, auth, "feed the cat", NOW - timedelta(seconds=1))
    await steps.run_due(NOW)
    shown = {
        r["title"]: [(a["channel"], a["error"]) for a in r["attempts"]]
        for r in await reminders(client, auth)
    }
    assert {title: set(tried) for title, tried in shown.items()} == {
        "water the plants": {
            ("web", "no open page"),
            ("sms", "no phone number"),
            ("call", "no phone number"),
            (None, "no channel reached the user"),
        },
        "feed the cat": {
            ("web", "no open page"),
            ("sms", "Twilio is not configured"),
            ("call", "Twilio is not configured"),
            (None, "no channel reached the user"),
        },
    }
