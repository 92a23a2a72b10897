"""A phone call through Twilio Media Streams, as Twilio speaks it: the signed voice
webhook, then JSON media frames of 8 kHz μ-law in real time, with real speech."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest
from sqlmodel import col, select
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent.app import create_app
from agent.dialogue.replies import HELP
from agent.phone_call import TwilioCall
from agent.services import Services
from speech.tts import PiperTTS
from store.models import ConversationTurn, Task, Transaction, User
from telephony.pins import Pins
from tests.local_server import serve
from tests.telephony.conftest import ANN_PHONE, PUBLIC_URL, Texter
from tests.twilio_server import AUTH_TOKEN


@pytest.fixture
async def base_url(twilio_services: Services, voice_models: tuple) -> AsyncIterator[str]:
    twilio_services._voice = voice_models  # the run's models, not a second copy
    async with serve(create_app(services=twilio_services)) as url:
        yield url


PAUSE_SECONDS = 0.8


def spoken(piper: PiperTTS, text: str) -> bytes:
    """``text`` said by Piper, as the phone line carries it (8 kHz), then a pause."""
    audio = piper.synthesize_now(text, steady=True).resampled(8000)
    return audio.pcm + np.zeros(int(8000 * PAUSE_SECONDS), dtype="<i2").tobytes()


async def titles(services: Services, user: User) -> list[str]:
    async with services.sessions() as db:
        return sorted(t.title for t in (await db.exec(select(Task).where(Task.user_id == user.id))))


async def test_a_spoken_command_is_answered_in_mulaw(
    base_url: str, twilio_services: Services, ann: User, piper: PiperTTS
) -> None:
    async with TwilioCall(base_url, PUBLIC_URL, AUTH_TOKEN, ANN_PHONE) as call:
        words = spoken(piper, "Add milk to my shopping list.")
        pause = len(words) - int(8000 * PAUSE_SECONDS) * 2
        await call.say(words[:pause])
        last_word_sent = call.last_sent
        await call.say(words[pause:])  # the line goes on carrying room sound
        await call.wait_for_reply()
    assert await titles(twilio_services, ann) == ["milk"]
    assert len(call.played.audio) / 2 / 8000 > 0.8  # the spoken reply, played to its end
    # Not a word of it came before the caller's last one.
    assert call.played.first_audio is not None and call.played.first_audio > last_word_sent
    # A mark after each clause and one after the whole reply, all played.
    assert call.played.marks and call.played.marks[-1].startswith("end-")
    async with twilio_services.sessions() as db:
        said = (
            await db.exec(
                select(ConversationTurn.text)
                .where(ConversationTurn.role == "assistant")
                .where(ConversationTurn.channel == "phone")
            )
        ).all()
    assert said == ["Added milk to your shopping list."]
    # The call's turn is counted on the phone channel, its stages timed.
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(100):  # reported once its last audio has gone out
            metrics = (await client.get("/metrics")).text
            if 'lifeos_voice_turns_total{channel="phone"} 1.0' in metrics:
                break
            await asyncio.sleep(0.05)
    assert 'lifeos_voice_turns_total{channel="phone"} 1.0' in metrics
    assert 'lifeos_voice_stage_seconds_count{channel="phone",stage="first_audio"} 1.0' in metrics


async def test_talking_over_the_reply_clears_it_and_the_unheard_words_are_dropped(
    base_url: str, twilio_services: Services, ann: User, piper: PiperTTS
) -> None:
    async with TwilioCall(base_url, PUBLIC_URL, AUTH_TOKEN, ANN_PHONE) as call:
        await call.say(spoken(piper, "Help."))
        await asyncio.wait_for(call.reply_started.wait(), 30)  # the long help answer
        await asyncio.sleep(1.0)
        await call.say(spoken(piper, "Add eggs to my shopping list."))
        await call.wait_for_reply()
    assert call.played.cleared >= 1
    assert await titles(twilio_services, ann) == ["eggs"]
    async with twilio_services.sessions() as db:
        help_turn = (
            await db.exec(
                select(ConversationTurn)
                .where(ConversationTurn.role == "assistant")
                .order_by(col(ConversationTurn.created_at))
            )
        ).first()
    assert help_turn is not None and help_turn.intent.get("interrupted") is True
    # Only what the marks say was played is kept: whole clauses, and less than was sent.
    assert len(help_turn.text) < len(HELP) and HELP.startswith(help_turn.text)


async def test_keys_confirm_a_delete_and_enter_the_pin(
    base_url: str,
    twilio_services: Services,
    twilio_client: httpx.AsyncClient,
    ann: User,
    piper: PiperTTS,
) -> None:
    """The delete is asked by text and confirmed by a key on a call: one conversation
    per phone number."""
    async with twilio_services.sessions() as db:
        db.add(Task(user_id=ann.id, title="old chore"))
        await db.commit()
    await Pins(twilio_services.sessions).set(ann.id, "4321")
    [question] = await Texter(twilio_client).text("delete all my tasks")
    assert question == "Delete all 1 task?"
    async with TwilioCall(base_url, PUBLIC_URL, AUTH_TOKEN, ANN_PHONE) as call:
        assert await titles(twilio_services, ann) == ["old chore"]  # asked, not done
        await call.press("1")  # 1 is yes
        await call.wait_for_reply()
        assert await titles(twilio_services, ann) == []
        await call.say(spoken(piper, "I spent twelve dollars on lunch."))
        await call.wait_for_reply()  # "For money, I need your phone PIN first. …"
        await call.press("4321#")
        await call.wait_for_reply()
        if not await spending(twilio_services, ann):  # a check-back on what it heard
            await call.press("1")
            await call.wait_for_reply()
    said = [text for role, text in await conversation(twilio_services) if role == "assistant"]
    assert "For money, I need your phone PIN first." in said
    assert said[-1].startswith("Logged $12.00")
    assert await spending(twilio_services, ann) == ["12.00"]


async def conversation(services: Services) -> list[tuple[str, str]]:
    """(role, text) of every turn, in order."""
    async with services.sessions() as db:
        turns = await db.exec(
            select(ConversationTurn.role, ConversationTurn.text).order_by(
                col(ConversationTurn.created_at)
            )
        )
        return list(turns.all())


async def spending(services: Services, user: User) -> list[str]:
    async with services.sessions() as db:
        rows = (await db.exec(select(Transaction).where(Transaction.user_id == user.id))).all()
    return [str(t.amount) for t in rows]


async def test_a_stream_not_opened_by_the_voice_webhook_is_refused(
    base_url: str, twilio_services: Services, ann: User
) -> None:
    url = base_url.replace("http://", "ws://") + "/v1/twilio/stream"
    async with connect(url) as socket:  # no signature on the upgrade request
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    # Signed upgrade, but `start` parameters the webhook never vouched for.
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        "wss://lifeos.example.com/v1/twilio/stream", {}
    )
    async with connect(url, additional_headers={"X-Twilio-Signature": signature}) as socket:
        await socket.send('{"event": "connected"}')
        forged = {"call_sid": "CA1", "caller": ANN_PHONE, "signature": "Zm9yZ2Vk"}
        start = {"customParameters": forged}
        await socket.send(json.dumps({"event": "start", "streamSid": "MZ1", "start": start}))
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_a_silent_call_is_hung_up(
    base_url: str, twilio_services: Services, ann: User
) -> None:
    twilio_services.telephony.idle_seconds = 1.0
    async with TwilioCall(base_url, PUBLIC_URL, AUTH_TOKEN, ANN_PHONE) as call:
        assert call.socket is not None
        # Only line silence is sent: the service closes the stream, and the TwiML's
        # <Hangup/> after <Connect> ends the call.
        await asyncio.wait_for(call.socket.wait_closed(), 15)


async def test_undo_on_a_call_asks_for_the_pin_before_taking_back_an_expense(
    base_url: str,
    twilio_services: Services,
    twilio_client: httpx.AsyncClient,
    ann: User,
    piper: PiperTTS,
) -> None:
    await Pins(twilio_services.sessions).set(ann.id, "4321")
    headers = {"Authorization": f"Bearer {twilio_services.tokens.issue(ann.id)}"}
    body = {"amount": "40.00", "merchant": "Hardware Store"}
    made = await twilio_client.post("/v1/transactions", headers=headers, json=body)
    assert made.status_code == 201, made.text
    async with TwilioCall(base_url, PUBLIC_URL, AUTH_TOKEN, ANN_PHONE) as call:
        await call.say(spoken(piper, "Take that back."))
        await call.wait_for_reply()
        assert await spending(twilio_services, ann) == ["40.00"]  # locked: nothing undone
        await call.press("4321#")
        await call.wait_for_reply()
        if await spending(twilio_services, ann):  # "Undo the last change?": a new call
            await call.press("1")
            await call.wait_for_reply()
    turns = await conversation(twilio_services)
    said = [text for role, text in turns if role == "assistant"]
    assert said[0] == "For money, I need your phone PIN first.", turns
    assert said[-1] == "Undone: Hardware Store.", turns
    assert await spending(twilio_services, ann) == []
