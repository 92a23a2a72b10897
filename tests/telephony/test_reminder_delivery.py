"""Reminders by text and by phone call: the scheduler stepped with run_due(now), the
real `twilio` client talking to a local server that speaks Twilio's REST API, and the
user answering through the signed webhooks and the Media Stream, as Twilio does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest
from pydantic import SecretStr
from sqlmodel import col, select

from agent.app import create_app
from agent.phone_call import TwilioCall
from agent.reminders.scheduler import Scheduler
from agent.services import Services
from speech.stt import WhisperSTT
from speech.tts import PiperTTS
from store.database import session_scope
from store.models import ConversationTurn, DeliveryAttempt, Reminder, Task, User
from tests.local_server import serve
from tests.telephony.conftest import ANN_PHONE, PUBLIC_URL, Texter, signed
from tests.twilio_server import AUTH_TOKEN, FakeTwilio, Recorded

STATUS = "/v1/twilio/status"


@pytest.fixture
async def fake_twilio(twilio_services: Services) -> AsyncIterator[FakeTwilio]:
    """Twilio's REST API, local; the service's outbound client pointed at it."""
    fake = FakeTwilio()
    async with fake.running() as url:
        twilio_services.settings = twilio_services.settings.model_copy(
            update={"twilio_api_base": url}
        )
        yield fake


@pytest.fixture
def auth(twilio_services: Services, ann: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {twilio_services.tokens.issue(ann.id)}"}


async def add_task(services: Services, user: User, title: str, at: datetime) -> Task:
    async with session_scope(services.sessions) as db:
        task = Task(user_id=user.id, title=title, remind_at=at, due_at=at)
        db.add(task)
    return task


async def task_status(services: Services, task_id: object) -> str:
    async with services.sessions() as db:
        task = await db.get(Task, task_id)
        assert task is not None
        return str(task.status)


async def attempts(services: Services) -> list[DeliveryAttempt]:
    async with services.sessions() as db:
        return list(await db.exec(select(DeliveryAttempt).order_by(DeliveryAttempt.channel)))


async def turns(services: Services) -> list[tuple[str, str, str]]:
    """The conversation as stored: (channel, role, text)."""
    async with services.sessions() as db:
        rows = await db.exec(select(ConversationTurn).order_by(col(ConversationTurn.created_at)))
        return [(t.channel, t.role, t.text) for t in rows]


def steps(services: Services) -> Scheduler:
    return Scheduler(services.sessions, services.channels)


def sent(fake: FakeTwilio, kind: str) -> list[Recorded]:
    return [r for r in fake.requests if r.path.endswith(f"/{kind}.json")]


async def test_a_reminder_texted_is_answered_done_by_text_and_its_status_is_shown(
    twilio_services: Services,
    twilio_client: httpx.AsyncClient,
    fake_twilio: FakeTwilio,
    ann: User,
    auth: dict,
) -> None:
    now = datetime.now(UTC)
    task = await add_task(twilio_services, ann, "water the plants", now - timedelta(seconds=5))
    await steps(twilio_services).run_due(now)

    [text] = sent(fake_twilio, "Messages")
    assert text.form["To"] == ANN_PHONE
    assert text.form["Body"].startswith("Reminder: water the plants. Reply done")
    assert text.form["StatusCallback"] == PUBLIC_URL + STATUS
    assert sent(fake_twilio, "Calls") == []  # the text reached Twilio: no call

    # Ann texts back; the answer applies to the reminder she was just sent.
    assert await Texter(twilio_client).text("done") == ["Marked water the plants as done."]
    assert await task_status(twilio_services, task.id) == "done"

    # Twilio reports the text delivered; a forged report changes nothing.
    [attempt] = [a for a in await attempts(twilio_services) if a.channel == "sms"]
    assert attempt.twilio_sid is not None
    report = {"MessageSid": attempt.twilio_sid, "MessageStatus": "delivered", "To": ANN_PHONE}
    forged = {**report, "MessageStatus": "failed"}
    bad = await twilio_client.post(STATUS, data=forged, headers=signed(STATUS, report))
    unsigned = await twilio_client.post(STATUS, data=forged)
    assert bad.status_code == unsigned.status_code == 403
    ok = await twilio_client.post(STATUS, data=report, headers=signed(STATUS, report))
    assert ok.status_code == 204
    late = {**report, "MessageStatus": "sent"}  # out of order: "delivered" stays
    await twilio_client.post(STATUS, data=late, headers=signed(STATUS, late))
    [shown] = (await twilio_client.get("/v1/reminders", headers=auth)).json()
    assert [(a["channel"], a["result"], a["twilio_status"]) for a in shown["attempts"]] == [
        ("web", "unreachable", None),
        ("sms", "sent", "delivered"),
    ]
    assert shown["status"] == "delivered" and shown["channel"] == "sms"


async def test_after_stop_the_reminder_rings_instead_and_a_refusal_is_logged_as_failed(
    twilio_services: Services,
    twilio_client: httpx.AsyncClient,
    fake_twilio: FakeTwilio,
    ann: User,
    auth: dict,
) -> None:
    now = datetime.now(UTC)
    await Texter(twilio_client).text("STOP")
    await add_task(twilio_services, ann, "water the plants", now - timedelta(seconds=5))
    await steps(twilio_services).run_due(now)
    assert sent(fake_twilio, "Messages") == []  # nothing texted after STOP
    [call] = sent(fake_twilio, "Calls")
    assert call.form["To"] == ANN_PHONE
    assert call.form["Url"].startswith(PUBLIC_URL + "/v1/twilio/voice?reminder=")
    assert call.form["StatusCallback"] == PUBLIC_URL + STATUS

    [shown] = (await twilio_client.get("/v1/reminders", headers=auth)).json()
    tried = [(a["channel"], a["result"], a["error"]) for a in shown["attempts"]]
    assert tried == [
        ("web", "unreachable", "no open page"),
        ("sms", "unreachable", "texts stopped (STOP)"),
        ("call", "sent", None),
    ]
    assert shown["status"] == "sent"  # not delivered until the call is answered
    # The call went unanswered: Twilio says so, and the log shows it; the call was the
    # last channel, so nothing else reaches Ann.
    sid = next(a for a in await attempts(twilio_services) if a.channel == "call").twilio_sid
    assert sid is not None
    report = {"CallSid": sid, "CallStatus": "no-answer", "To": ANN_PHONE}
    await twilio_client.post(STATUS, data=report, headers=signed(STATUS, report))
    await steps(twilio_services).run_due(now)
    [shown] = (await twilio_client.get("/v1/reminders", headers=auth)).json()
    call_try = next(a for a in shown["attempts"] if a["result"] == "sent")
    assert call_try["twilio_status"] == "no-answer"
    assert shown["status"] == "unreached" and len(sent(fake_twilio, "Calls")) == 1

    # Twilio refusing (here: the account's credentials are wrong) is a failure, with why.
    twilio_services.settings = twilio_services.settings.model_copy(
        update={"twilio_auth_token": SecretStr("0" * 32)}
    )
    await add_task(twilio_services, ann, "feed the cat", now - timedelta(seconds=1))
    await steps(twilio_services).run_due(now)
    reminders = (await twilio_client.get("/v1/reminders", headers=auth)).json()
    [cat] = [r for r in reminders if r["title"] == "feed the cat"]
    assert cat["status"] == "unreached"
    call_try = next(a for a in cat["attempts"] if a["channel"] == "call")
    assert call_try["result"] == "failed" and "Authenticate" in call_try["error"]


async def test_the_reminder_calls_webhook_is_signed_with_its_reminder_and_finds_the_user_by_to(
    twilio_client: httpx.AsyncClient, ann: User
) -> None:
    path = "/v1/twilio/voice?reminder=00000000-0000-0000-0000-000000000001"
    form = {"CallSid": "CA" + "2" * 32, "From": "+14155550100", "To": ANN_PHONE}
    form["Direction"] = "outbound-api"
    answered = await twilio_client.post(path, data=form, headers=signed(path, form))
    assert answered.status_code == 200 and "<Stream" in answered.text
    assert 'name="reminder" value="00000000-0000-0000-0000-000000000001"' in answered.text
    # The reminder in the URL is part of what Twilio signs: another one is refused.
    other = path[:-1] + "2"
    forged = await twilio_client.post(other, data=form, headers=signed(path, form))
    assert forged.status_code == 403
    # Placed to a number that is nobody's: refused, as an unknown caller is.
    stranger = {**form, "To": "+14155550999"}
    refused = await twilio_client.post(path, data=stranger, headers=signed(path, stranger))
    assert "<Stream" not in refused.text and "isn't linked" in refused.text


# --- by phone call: through the Media Stream ----------------------------------


@pytest.fixture
async def base_url(twilio_services: Services, voice_models: tuple) -> AsyncIterator[str]:
    twilio_services._voice = voice_models  # the run's models, not a second copy
    async with serve(create_app(services=twilio_services)) as url:
        yield url


def spoken(piper: PiperTTS, text: str) -> bytes:
    """``text`` said by Piper, as the phone line carries it (8 kHz), then a pause."""
    audio = piper.synthesize_now(text, steady=True).resampled(8000)
    return audio.pcm + np.zeros(int(8000 * 0.8), dtype="<i2").tobytes()


async def heard(whisper: WhisperSTT, audio: bytes) -> str:
    """What the caller heard (8 kHz PCM), as Whisper makes it out."""
    from speech.audio import Audio

    played = Audio(audio, 8000)
    return (await whisper.transcribe(played.resampled(16000))).text.lower()


async def test_a_reminder_call_speaks_the_reminder_and_done_said_on_the_call_completes_it(
    twilio_services: Services,
    base_url: str,
    fake_twilio: FakeTwilio,
    ann: User,
    piper: PiperTTS,
    whisper: WhisperSTT,
) -> None:
    await prefer_calls(twilio_services, ann)
    now = datetime.now(UTC)
    task = await add_task(twilio_services, ann, "water the plants", now - timedelta(seconds=5))
    await steps(twilio_services).run_due(now)
    [placed] = sent(fake_twilio, "Calls")
    [attempt] = [a for a in await attempts(twilio_services) if a.channel == "call"]
    assert attempt.twilio_sid is not None
    # Ann picks up: Twilio asks the voice URL the service gave it, then streams.
    answering = (placed.form["Url"], attempt.twilio_sid)
    async with TwilioCall(base_url, PUBLIC_URL, AUTH_TOKEN, ANN_PHONE, answering=answering) as call:
        assert call.refused is None
        await call.wait_for_reply()  # the reminder, spoken before she says anything
        opening = bytes(call.played.audio)
        await call.say(spoken(piper, "Mark it done."))
        await call.wait_for_reply()
        if await task_status(twilio_services, task.id) != "done":  # a check-back on a guess
            assert (await turns(twilio_services))[-1][2] == "Mark water the plants as done?"
            await call.press("1")  # after speaking, 1 is yes again
            await call.wait_for_reply()
    assert await task_status(twilio_services, task.id) == "done", await turns(twilio_services)
    async with twilio_services.sessions() as db:  # answered and spoken: delivered
        reminder = (await db.exec(select(Reminder))).one()
    assert reminder.status == "delivered" and reminder.channel == "call"
    words = await heard(whisper, opening)
    assert "plants" in words and "done" in words and "press" in words, words


async def test_on_a_reminder_call_pressing_2_snoozes_it_ten_minutes(
    twilio_services: Services,
    base_url: str,
    fake_twilio: FakeTwilio,
    ann: User,
    auth: dict,
    twilio_client: httpx.AsyncClient,
) -> None:
    await prefer_calls(twilio_services, ann)
    now = datetime.now(UTC)
    await add_task(twilio_services, ann, "water the plants", now - timedelta(seconds=5))
    await steps(twilio_services).run_due(now)
    [placed] = sent(fake_twilio, "Calls")
    [attempt] = [a for a in await attempts(twilio_services) if a.channel == "call"]
    assert attempt.twilio_sid is not None
    answering = (placed.form["Url"], attempt.twilio_sid)
    async with TwilioCall(base_url, PUBLIC_URL, AUTH_TOKEN, ANN_PHONE, answering=answering) as call:
        await call.wait_for_reply()  # the reminder
        await call.press("2")
        await call.wait_for_reply()
    snoozed = [
        r
        for r in (await twilio_client.get("/v1/reminders", headers=auth)).json()
        if r["origin"] == "snooze"
    ]
    assert len(snoozed) == 1 and snoozed[0]["title"] == "water the plants"
    again = datetime.fromisoformat(snoozed[0]["fire_at"])
    assert timedelta(minutes=9) < again - now < timedelta(minutes=11)


async def test_a_call_for_someone_elses_reminder_says_nothing_of_it(
    twilio_services: Services, base_url: str, fake_twilio: FakeTwilio, ann: User
) -> None:
    """The voice URL names a reminder that is not the called user's: the call still
    connects (it is the user's number) but opens with no reminder."""
    url = PUBLIC_URL + "/v1/twilio/voice?reminder=00000000-0000-0000-0000-000000000001"
    answering = (url, "CA" + "1" * 32)
    async with TwilioCall(base_url, PUBLIC_URL, AUTH_TOKEN, ANN_PHONE, answering=answering) as call:
        assert call.refused is None
        assert not await reply_within(call, 3.0)


async def reply_within(call: TwilioCall, seconds: float) -> bool:
    import asyncio
    import contextlib

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(call.reply_started.wait(), seconds)
    return call.reply_started.is_set()


async def prefer_calls(services: Services, user: User) -> None:
    async with session_scope(services.sessions) as db:
        row = await db.get(User, user.id)
        assert row is not None
        row.settings = {**row.settings, "reminder_channels": ["call"]}
        db.add(row)


async def test_call_say_remind_me_in_two_minutes_hang_up_and_two_minutes_later_a_text(
    twilio_services: Services,
    twilio_client: httpx.AsyncClient,
    base_url: str,
    fake_twilio: FakeTwilio,
    ann: User,
    piper: PiperTTS,
) -> None:
    """The issue's story, with the default channels: nobody has the page open."""
    async with TwilioCall(base_url, PUBLIC_URL, AUTH_TOKEN, ANN_PHONE) as call:
        await call.say(spoken(piper, "Remind me to water the plants in two minutes."))
        await call.wait_for_reply()
    said = datetime.now(UTC)
    scheduler = steps(twilio_services)
    await scheduler.run_due(said + timedelta(minutes=1))
    assert sent(fake_twilio, "Messages") == [], (said, await turns(twilio_services))  # not yet
    await scheduler.run_due(said + timedelta(minutes=2, seconds=5))
    texts = sent(fake_twilio, "Messages")
    assert len(texts) == 1, await turns(twilio_services)
    [text] = texts
    assert text.form["To"] == ANN_PHONE
    assert text.form["Body"].startswith("Reminder: water the plants.")
    assert sent(fake_twilio, "Calls") == []
    assert await Texter(twilio_client).text("snooze ten minutes") == [
        "Okay, I'll remind you again in 10 minutes."
    ]
