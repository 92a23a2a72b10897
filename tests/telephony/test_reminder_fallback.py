"""A reminder text or call that does not reach the user falls back to the next channel
in their order, once: Twilio's signed status callbacks, the real `twilio` client
against the local Twilio server, and the scheduler stepped with run_due(now)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from agent.reminders.scheduler import Scheduler
from agent.services import Services
from store.models import User
from tests.agent.test_reminders import prefer
from tests.telephony.conftest import ANN_PHONE, signed
from tests.telephony.test_reminder_delivery import (  # noqa: F401 - fixtures
    STATUS,
    add_task,
    attempts,
    auth,
    fake_twilio,
    sent,
    steps,
)
from tests.twilio_server import FakeTwilio


async def report(client: httpx.AsyncClient, sid: str, state: str) -> None:
    kind = "Call" if sid.startswith("CA") else "Message"
    form = {f"{kind}Sid": sid, f"{kind}Status": state, "To": ANN_PHONE}
    response = await client.post(STATUS, data=form, headers=signed(STATUS, form))
    assert response.status_code == 204


async def shown(client: httpx.AsyncClient, headers: dict) -> dict:
    [reminder] = (await client.get("/v1/reminders", headers=headers)).json()
    return reminder


def log(reminder: dict) -> list[tuple]:
    return [
        (a["channel"], a["result"], a["error"], a["twilio_status"]) for a in reminder["attempts"]
    ]


async def twilio_sid(services: Services, channel: str) -> str:
    found = [a.twilio_sid for a in await attempts(services) if a.channel == channel]
    return next(sid for sid in found if sid)


async def test_an_unanswered_call_falls_back_to_a_text_once_and_a_late_completed_does_nothing(
    twilio_services: Services,
    twilio_client: httpx.AsyncClient,
    fake_twilio: FakeTwilio,  # noqa: F811
    ann: User,
    auth: dict,  # noqa: F811
) -> None:
    await prefer(twilio_services, ann, ["call", "sms"])
    now = datetime.now(UTC)
    await add_task(twilio_services, ann, "water the plants", now - timedelta(seconds=5))
    await steps(twilio_services).run_due(now)
    assert len(sent(fake_twilio, "Calls")) == 1 and sent(fake_twilio, "Messages") == []
    assert (await shown(twilio_client, auth))["status"] == "sent"
    call = await twilio_sid(twilio_services, "call")

    # Twilio reports the call rang out, twice at once (a retry, or two processes).
    await asyncio.gather(*(report(twilio_client, call, "no-answer") for _ in range(2)))
    waiting = await shown(twilio_client, auth)
    assert waiting["status"] == "pending" and waiting["delivered_at"] is None

    # Two schedulers (a new process each: the state is in the database) race for it.
    racers = [Scheduler(twilio_services.sessions, twilio_services.channels) for _ in range(2)]
    await asyncio.gather(*(racer.run_due(now + timedelta(seconds=30)) for racer in racers))
    [text] = sent(fake_twilio, "Messages")
    assert text.form["To"] == ANN_PHONE
    assert text.form["Body"].startswith("Reminder: water the plants.")

    # The call ends "completed" late (Twilio does not promise order): nothing more.
    await report(twilio_client, call, "completed")
    await steps(twilio_services).run_due(now + timedelta(minutes=1))
    assert len(sent(fake_twilio, "Messages")) == 1 and len(sent(fake_twilio, "Calls")) == 1

    await report(twilio_client, await twilio_sid(twilio_services, "sms"), "delivered")
    final = await shown(twilio_client, auth)
    assert final["status"] == "delivered" and final["channel"] == "sms"
    assert log(final) == [
        ("call", "sent", None, "completed"),
        ("call", "fallback", "the call was not answered (no-answer)", None),
        ("sms", "sent", None, "delivered"),
    ]


async def test_an_undelivered_text_falls_back_to_a_call_and_the_answered_call_delivers(
    twilio_services: Services,
    twilio_client: httpx.AsyncClient,
    fake_twilio: FakeTwilio,  # noqa: F811
    ann: User,
    auth: dict,  # noqa: F811
) -> None:
    now = datetime.now(UTC)  # the default order: page (not open), text, call
    await add_task(twilio_services, ann, "feed the cat", now - timedelta(seconds=5))
    await steps(twilio_services).run_due(now)
    await report(twilio_client, await twilio_sid(twilio_services, "sms"), "undelivered")
    await steps(twilio_services).run_due(now + timedelta(seconds=10))
    [placed] = sent(fake_twilio, "Calls")
    assert placed.form["Url"].startswith("https://lifeos.example.com/v1/twilio/voice?reminder=")
    assert len(sent(fake_twilio, "Messages")) == 1  # the text is not sent again

    await report(twilio_client, await twilio_sid(twilio_services, "call"), "completed")
    final = await shown(twilio_client, auth)
    assert final["status"] == "delivered" and final["channel"] == "call"
    assert [(c, r) for c, r, _, _ in log(final)] == [
        ("web", "unreachable"),
        ("sms", "sent"),
        ("sms", "fallback"),
        ("call", "sent"),
    ]


async def test_without_a_report_a_text_counts_as_delivered_and_a_call_falls_back(
    twilio_services: Services,
    twilio_client: httpx.AsyncClient,
    fake_twilio: FakeTwilio,  # noqa: F811
    ann: User,
    auth: dict,  # noqa: F811
) -> None:
    """The callback never came (the service was down when Twilio posted it)."""
    await prefer(twilio_services, ann, ["call", "sms"])
    now = datetime.now(UTC)
    await add_task(twilio_services, ann, "call mom", now - timedelta(seconds=5))
    patient = Scheduler(
        twilio_services.sessions, twilio_services.channels, report_wait=timedelta(minutes=15)
    )
    await patient.run_due(now)
    await patient.run_due(now + timedelta(minutes=10))  # still waiting for the call's word
    assert sent(fake_twilio, "Messages") == []
    await patient.run_due(now + timedelta(minutes=16))
    assert len(sent(fake_twilio, "Messages")) == 1  # no word that anyone answered: a text
    await patient.run_due(now + timedelta(minutes=32))  # and the text, never reported failed
    final = await shown(twilio_client, auth)
    assert final["status"] == "delivered" and final["channel"] == "sms"
    assert ("call", "fallback", "no word of an answer") in [x[:3] for x in log(final)]
    assert len(sent(fake_twilio, "Calls")) == 1
