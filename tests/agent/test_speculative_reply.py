"""The reply worked out while a pause is judged, over the real voice socket: kept
back until the turn ends, thrown away when the user goes on, never written early."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from sqlmodel import col, select
from websockets.asyncio.client import connect

from agent.services import Services
from speech.tts import PiperTTS
from store.models import AuditEntry, ConversationTurn, Task
from tests.agent.test_voice import base_url, next_event, send_audio, silence, socket_url

__all__ = ["base_url"]  # the socket fixture, shared with test_voice

# Said with a pause after it: Whisper tiny.en hears these Piper words as said, and the
# grammar cannot call them whole (the sentence ends on "the"), so the pause is judged.
UNFINISHED = "Add bread to the"
THE_REST = "list, please."
ADDED = "Added bread to your tasks."
# Left trailing off ("to the"), the words are doubtful: a write on them waits for a yes.
ASKED = "Add bread to your tasks?"


def spoken(piper: PiperTTS, text: str) -> bytes:
    """Piper's words with its own quiet tail cut to 20 ms: the silence after them is
    the test's to choose."""
    samples = np.frombuffer(piper.synthesize_now(text, steady=True).resampled(16000).pcm, "<i2")
    voiced = np.flatnonzero(np.abs(samples) > 327)
    return samples[: voiced[-1] + 320].tobytes()


async def until_reply_done(socket) -> tuple[list[dict], int]:
    """Every event up to the end of the reply's audio, and how many bytes of audio."""
    events: list[dict] = []
    audio = 0
    while not events or events[-1]["type"] != "audio_end":
        message = await asyncio.wait_for(socket.recv(), timeout=30)
        if isinstance(message, bytes):
            audio += len(message)
        else:
            events.append(json.loads(message))
    return events, audio


async def written(services: Services) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Task titles, the audit log's actions (but the user's own creation) and the
    conversation's turns, as stored."""
    async with services.sessions() as db:
        tasks = (await db.exec(select(Task.title))).all()
        audits = (
            await db.exec(select(AuditEntry.action).where(AuditEntry.action != "users.create"))
        ).all()
        turns = (
            await db.exec(
                select(ConversationTurn.role, ConversationTurn.text).order_by(
                    col(ConversationTurn.created_at)
                )
            )
        ).all()
    return list(tasks), list(audits), [(role, text) for role, text in turns]


async def test_a_user_who_goes_on_after_the_pause_leaves_no_trace_of_it(
    base_url: str, auth: dict, services: Services, piper: PiperTTS
) -> None:
    """At the pause after "Add bread to the" the rehearsal adds bread (it would say
    "Added bread to your tasks."); the user goes on, and only the whole sentence is acted on."""
    services.assistant.parser.rules.warm_up_all()
    async with connect(socket_url(base_url, auth)) as socket:
        await socket.recv()  # ready
        await send_audio(socket, silence(0.3) + spoken(piper, UNFINISHED) + silence(0.2))
        partial = await next_event(socket, "partial")  # the pause was judged: rehearsed
        assert partial["text"].lower().rstrip(".").endswith("to the")
        before = await written(services)
        await send_audio(socket, spoken(piper, THE_REST) + silence(1.0))
        events, audio = await until_reply_done(socket)
    kinds = [event["type"] for event in events]
    assert before == ([], [], [])
    assert kinds.count("transcript") == kinds.count("reply") == kinds.count("audio_start") == 1
    heard = next(e for e in events if e["type"] == "transcript")["text"]
    reply = next(e for e in events if e["type"] == "reply")["text"]
    assert "please" in heard.lower() and reply == ADDED
    assert audio / 2 / 16000 < 2.0  # one short reply's audio, not two
    conversation = [("user", heard), ("assistant", reply)]
    assert await written(services) == (["bread"], ["tasks.create"], conversation)


@pytest.mark.parametrize("rehearsals", [True, False], ids=["speculative", "off"])
async def test_a_turn_that_ends_after_the_pause_gets_the_audio_made_during_it(
    base_url: str, auth: dict, services: Services, piper: PiperTTS, rehearsals: bool
) -> None:
    """The same unfinished words, then silence: the turn ends after the long silence,
    is answered once (checked back, nothing written: the words trail off), and its
    first clause's audio was made while the pause was judged (`speculative` in
    `timings`); with rehearsals off it is made afterwards."""
    services.assistant.parser.rules.warm_up_all()
    services.assistant.rehearsals = rehearsals  # LIFEOS_SPECULATIVE_REPLY
    async with connect(socket_url(base_url, auth)) as socket:
        await socket.recv()  # ready
        await send_audio(socket, silence(0.3) + spoken(piper, UNFINISHED) + silence(0.2))
        await next_event(socket, "partial")
        await send_audio(socket, silence(1.0))
        events, audio = await until_reply_done(socket)
    timings = next(e for e in events if e["type"] == "timings")
    reply = next(e for e in events if e["type"] == "reply")["text"]
    heard = next(e for e in events if e["type"] == "transcript")["text"]
    assert timings["ended_by"] == "silence"
    assert timings["speculative"] is rehearsals
    assert reply == ASKED and audio > 0
    conversation = [("user", heard), ("assistant", reply)]
    assert await written(services) == ([], [], conversation)


class RecordingClaude:
    """Stands where Claude's parser stands and notes every sentence it is asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def parse(self, text: str, context: object) -> None:
        self.asked.append(text)
        return None


async def test_a_rehearsal_asks_no_one_outside_and_leaves_the_phone_lock_alone(
    services: Services, user
) -> None:
    """A sentence only Claude could settle is not rehearsed (Claude is asked once, by
    the real turn); a money request on a locked call rehearses to the lock's own
    first words without holding the request, and while the PIN is awaited nothing
    is rehearsed."""
    from agent.dialogue.assistant import MONEY_LOCKED
    from agent.dialogue.phone import PhoneAssistant
    from agent.dialogue.voice import VoiceResponder
    from telephony.pins import Pins

    claude = RecordingClaude()
    services.assistant.parser.llm = claude
    voice = VoiceResponder(services.assistant, user.id)
    unsure = "remind me to call mom"  # the grammar is not sure of it: Claude would be asked
    assert await voice.rehearse(unsure) is None and claude.asked == []
    said = [clause async for clause in voice.reply(unsure, {})]
    assert claude.asked == [unsure] and said

    pins = Pins(services.sessions)
    await pins.set(user.id, "1234")
    call = PhoneAssistant(services.assistant, pins).call(user.id, "+15550100", "CA1")
    spent = "I spent twelve fifty on lunch"
    assert await call.rehearse(spent) == MONEY_LOCKED
    assert call.lock.held is None
    answer = [clause async for clause in call.reply(spent, {})]
    assert answer[0] == MONEY_LOCKED and call.lock.held == spent
    assert await call.rehearse("1234") is None  # the PIN check decides what is said
    assert (await written(services))[0:2] == ([], [])
