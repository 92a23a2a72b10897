"""The voice WebSocket as a browser uses it: real server, real socket, real audio."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent.app import create_app
from agent.services import Services
from speech.audio import mulaw_encode
from speech.tts import PiperTTS
from tests.local_server import serve

FRAME = 640  # 20 ms of 16 kHz PCM16


@pytest.fixture
async def base_url(services: Services, voice_models: tuple) -> AsyncIterator[str]:
    services._voice = voice_models  # the run's models, not a second copy
    async with serve(create_app(services=services)) as url:
        yield url


async def converse(url: str, token: str, pcm: bytes) -> tuple[list[dict], bytes]:
    events: list[dict] = []
    audio = bytearray()
    socket_url = url.replace("http://", "ws://") + f"/v1/voice?token={token}"
    async with connect(socket_url) as socket:
        events.append(json.loads(await socket.recv()))
        for i in range(0, len(pcm), FRAME):
            await socket.send(pcm[i : i + FRAME])
        while not events or events[-1].get("type") != "audio_end":
            message = await asyncio.wait_for(socket.recv(), timeout=30)
            if isinstance(message, bytes):
                audio += message
            else:
                events.append(json.loads(message))
    return events, bytes(audio)


def silence(seconds: float) -> bytes:
    return np.zeros(int(16000 * seconds), dtype="<i2").tobytes()


async def test_spoken_command_over_the_socket(base_url: str, auth: dict, piper: PiperTTS) -> None:
    token = auth["Authorization"].split()[1]
    command = piper.synthesize_now("Add milk to my shopping list.", steady=True).resampled(16000)
    events, audio = await converse(base_url, token, silence(0.3) + command.pcm + silence(1.0))
    kinds = [event["type"] for event in events]
    assert kinds[:2] == ["ready", "speech_started"]
    assert {"transcript", "audio_start", "reply", "audio_end", "timings"} <= set(kinds)
    reply = next(e for e in events if e["type"] == "reply")
    assert reply["text"] == "Added milk to your shopping list."
    assert len(audio) / 2 / 16000 > 0.8  # the spoken reply arrived
    timings = next(e for e in events if e["type"] == "timings")
    stages = ("endpoint_wait", "stt", "intent", "action", "tts_first_chunk", "audio_ready")
    assert all(timings[stage] >= 0 for stage in stages)
    assert kinds.index("timings") < kinds.index("audio_end")
    assert events[-1]["send"] >= 0 and events[-1]["first_audio"] >= timings["audio_ready"]
    async with httpx.AsyncClient(base_url=base_url) as client:
        tasks = (await client.get("/v1/tasks", headers=auth, params={"list": "shopping"})).json()
    assert [t["title"] for t in tasks] == ["milk"]


async def test_bad_token_and_bad_frames(base_url: str, auth: dict) -> None:
    socket_url = base_url.replace("http://", "ws://") + "/v1/voice?token=nope"
    async with connect(socket_url) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "token is malformed")
    token = auth["Authorization"].split()[1]
    async with connect(base_url.replace("http://", "ws://") + f"/v1/voice?token={token}") as socket:
        await socket.recv()  # ready
        await socket.send(b"\x00\x01\x02")  # an odd number of bytes is not PCM16
        error = json.loads(await socket.recv())
        assert error["type"] == "error" and "16-bit PCM" in error["message"]
        await socket.send(silence(0.5))  # silence alone starts no turn: nothing comes back
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.recv(), timeout=0.5)


async def test_phone_audio_mulaw_at_8khz(base_url: str, auth: dict, piper: PiperTTS) -> None:
    token = auth["Authorization"].split()[1]
    async with httpx.AsyncClient(base_url=base_url, headers=auth) as client:
        # An existing list: a new one would be proposed, not made, by a spoken request.
        (await client.post("/v1/lists", json={"name": "errands"})).raise_for_status()
    command = piper.synthesize_now("Add stamps to my errands list.", steady=True).resampled(8000)
    quiet = np.zeros(8000, dtype="<i2").tobytes()
    mulaw = mulaw_encode(quiet[:4800] + command.pcm + quiet)
    events: list[dict] = []
    audio = bytearray()
    url = base_url.replace("http://", "ws://") + f"/v1/voice?token={token}&rate=8000&encoding=mulaw"
    async with connect(url) as socket:
        events.append(json.loads(await socket.recv()))
        for i in range(0, len(mulaw), 160):  # 20 ms of 8 kHz μ-law
            await socket.send(mulaw[i : i + 160])
        while events[-1].get("type") != "audio_end":
            message = await asyncio.wait_for(socket.recv(), timeout=30)
            if isinstance(message, bytes):
                audio += message
            else:
                events.append(json.loads(message))
    assert events[0] == {"type": "ready", "input_rate": 8000, "output_rate": 8000}
    start = next(e for e in events if e["type"] == "audio_start")
    assert start["rate"] == 8000
    reply = next(e for e in events if e["type"] == "reply")
    assert reply["text"].startswith("Added stamps to your errand")  # "errands" on a good line
    assert len(audio) / 8000 > 0.8  # one byte per sample: a second of reply audio


def socket_url(base_url: str, auth: dict, query: str = "") -> str:
    token = auth["Authorization"].split()[1]
    return base_url.replace("http://", "ws://") + f"/v1/voice?token={token}{query}"


async def next_event(socket, kind: str, audio: bytearray | None = None) -> dict:
    while True:
        message = await asyncio.wait_for(socket.recv(), timeout=30)
        if isinstance(message, bytes):
            if audio is not None:
                audio += message
            continue
        event = json.loads(message)
        if event["type"] == kind:
            return event


async def send_audio(socket, pcm: bytes) -> None:
    """As a client would: in frames (of a second here, the server takes up to two)."""
    for i in range(0, len(pcm), 32000):
        await socket.send(pcm[i : i + 32000])


async def drain(socket, seconds: float) -> list:
    """Whatever arrives until the socket is quiet for `seconds`."""
    messages: list = []
    try:
        while True:
            messages.append(await asyncio.wait_for(socket.recv(), timeout=seconds))
    except TimeoutError:
        return messages


async def test_talking_over_the_reply_stops_it_and_keeps_only_what_was_heard(
    base_url: str, auth: dict, services: Services, piper: PiperTTS
) -> None:
    from sqlmodel import select

    from store.models import ConversationTurn

    question = piper.synthesize_now("What can you do?", steady=True).resampled(16000)
    command = piper.synthesize_now("Add stamps to my shopping list.", steady=True).resampled(16000)
    async with connect(socket_url(base_url, auth)) as socket:
        await socket.recv()  # ready
        await send_audio(socket, silence(0.3) + question.pcm)
        for i in range(0, len(silence(1.0)), FRAME):
            await socket.send(silence(1.0)[i : i + FRAME])
        heard_audio = bytearray()
        await next_event(socket, "audio_start")
        while len(heard_audio) < 16000:  # half a second of the (long) help reply
            message = await asyncio.wait_for(socket.recv(), timeout=30)
            if isinstance(message, bytes):
                heard_audio += message
        await socket.send(command.pcm[:9600])  # 0.3 s of new speech over the reply
        after = bytearray()
        interrupted = await next_event(socket, "interrupted", after)
        for i in range(9600, len(command.pcm), FRAME):
            await socket.send(command.pcm[i : i + FRAME])
        await socket.send(silence(1.0))
        late = bytearray()
        await next_event(socket, "transcript", late)
        reply = await next_event(socket, "reply")
    # Playback stopped: at most a 40 ms chunk in flight when the reply was cut.
    assert len(late) <= 2 * 1280
    full = "I can keep your lists and tasks, remind you of things"
    assert interrupted["heard"] and full.startswith(interrupted["heard"][:10])
    assert reply["text"] == "Added stamps to your shopping list."
    async with services.sessions() as db:
        said = (
            await db.exec(
                select(ConversationTurn)
                .where(ConversationTurn.role == "assistant")
                .order_by(ConversationTurn.created_at)
            )
        ).all()
    assert said[0].text == interrupted["heard"]  # the unheard rest is not in the history
    assert said[0].intent["interrupted"] is True
    assert said[1].text == "Added stamps to your shopping list."


async def test_second_connection_for_the_same_user_takes_over(base_url: str, auth: dict) -> None:
    async with connect(socket_url(base_url, auth)) as first:
        await first.recv()  # ready
        async with connect(socket_url(base_url, auth)) as second:
            assert json.loads(await second.recv())["type"] == "ready"
            notice = json.loads(await asyncio.wait_for(first.recv(), timeout=10))
            assert notice == {
                "type": "notice",
                "message": "Voice was opened in another window; this one is closed.",
            }
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(first.recv(), timeout=10)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4000, "opened elsewhere")


async def test_unsupported_rate_or_encoding_is_refused_with_a_reason(
    base_url: str, auth: dict
) -> None:
    for query in ("&rate=12345", "&encoding=opus"):
        async with connect(socket_url(base_url, auth, query)) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003
        assert "rate must be one of 8000, 16000" in closed.value.rcvd.reason


async def test_client_leaving_mid_reply_frees_everything(
    base_url: str, auth: dict, services: Services, piper: PiperTTS
) -> None:
    question = piper.synthesize_now("What can you do?", steady=True).resampled(16000)
    async with connect(socket_url(base_url, auth)) as socket:
        await socket.recv()
        await send_audio(socket, silence(0.3) + question.pcm + silence(1.0))
        await next_event(socket, "audio_start")
    for _ in range(100):  # the server notices the socket is gone and ends the pipeline
        if not services.voice_connections:
            break
        await asyncio.sleep(0.05)
    assert services.voice_connections == {}
    async with connect(socket_url(base_url, auth)) as socket:  # and voice still works
        assert json.loads(await socket.recv())["type"] == "ready"


async def test_a_ten_minute_monologue_gets_one_clear_answer(
    base_url: str, services: Services, auth: dict, piper: PiperTTS
) -> None:
    # Sent at once rather than over ten minutes: this client may (see test_abuse.py).
    services.settings.voice_burst_seconds = 700
    sentence = piper.synthesize_now(
        "and then we went to the market and bought some more apples", steady=True
    ).resampled(16000)
    talk = np.frombuffer(sentence.pcm, dtype="<i2")
    voiced = np.flatnonzero(np.abs(talk) > 300)
    talk = talk[voiced[0] : voiced[-1]]  # no gaps between the repeats
    monologue = np.tile(talk, int(600 * 16000 / talk.size) + 1).tobytes()
    events: list[dict] = []
    async with connect(socket_url(base_url, auth)) as socket:
        await socket.recv()
        for i in range(0, len(monologue), 32000):
            await socket.send(monologue[i : i + 32000])
        await socket.send(silence(1.5))
        while not events or events[-1]["type"] != "audio_end":
            message = await asyncio.wait_for(socket.recv(), timeout=60)
            if isinstance(message, str):
                events.append(json.loads(message))
        later = await drain(socket, seconds=1.5)  # one answer, not one per 30 s of talk
    assert not [m for m in later if isinstance(m, str)]
    kinds = [e["type"] for e in events]
    assert kinds.count("notice") == 1 and kinds.count("reply") == 1
    reply = next(e for e in events if e["type"] == "reply")
    assert reply["text"] == "That was a lot at once. Please tell me one thing at a time."


async def test_noise_alone_starts_no_turn_and_clipped_speech_is_answered(
    base_url: str, auth: dict, piper: PiperTTS
) -> None:
    rng = np.random.default_rng(7)
    hiss = (rng.standard_normal(16000 * 2) * 600).astype("<i2").tobytes()
    command = piper.synthesize_now("Add milk to my shopping list.", steady=True).resampled(16000)
    clipped = np.clip(np.frombuffer(command.pcm, dtype="<i2").astype(np.int32) * 4, -32768, 32767)
    async with connect(socket_url(base_url, auth)) as socket:
        await socket.recv()
        await socket.send(hiss)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.recv(), timeout=1.0)
        await send_audio(socket, silence(0.3) + clipped.astype("<i2").tobytes() + silence(1.0))
        transcript = await next_event(socket, "transcript")
        reply = await next_event(socket, "reply")
    # Hard clipping garbles a word or two, not the request, and it is answered.
    assert "shopping list" in transcript["text"].lower()
    assert reply["text"].endswith("to your shopping list.")


async def test_a_whole_request_ends_its_turn_on_the_short_pause(
    base_url: str, auth: dict, services: Services, piper: PiperTTS
) -> None:
    """Streamed in real time: after "add milk to my shopping list" the turn ends on
    the short pause once the early transcript is in; after "remind me to" the
    pipeline waits for the long silence, since more is coming."""
    services.assistant.parser.rules.warm_up_all()  # as the service does at start-up
    ended_by = []
    for said in ("Add milk to my shopping list.", "Remind me to"):
        command = piper.synthesize_now(said, steady=True).resampled(16000)
        pcm = silence(0.3) + command.pcm + silence(1.5)
        async with connect(socket_url(base_url, auth)) as socket:
            await socket.recv()
            loop = asyncio.get_running_loop()
            began = loop.time()
            for n, i in enumerate(range(0, len(pcm), FRAME)):  # as a microphone sends it
                await asyncio.sleep(max(0.0, began + n * 0.02 - loop.time()))
                await socket.send(pcm[i : i + FRAME])
            heard = (await next_event(socket, "transcript"))["text"]
            ended_by.append((heard, (await next_event(socket, "timings"))["ended_by"]))
    assert [how for _heard, how in ended_by] == ["whole request", "silence"], ended_by


def clipped_yes(piper: PiperTTS) -> bytes:
    """A "yes" whose first 80 ms the microphone missed: Whisper alone hears "S",
    with "yes" a close second."""
    said = piper.synthesize_now("Yes?", steady=True).resampled(16000)
    samples = np.frombuffer(said.pcm, dtype="<i2")
    voiced = np.flatnonzero(np.abs(samples) > 327)
    return samples[voiced[0] + 1280 : voiced[-1]].tobytes()


async def spoken_turn(socket, pcm: bytes) -> tuple[str, str]:
    """One turn: what was heard and what was said back."""
    await send_audio(socket, silence(0.3) + pcm + silence(1.0))
    transcript = await next_event(socket, "transcript")
    reply = await next_event(socket, "reply")
    await next_event(socket, "audio_end")
    return transcript["text"], reply["text"]


async def test_a_one_word_yes_to_a_confirmation_is_acted_on(
    base_url: str, auth: dict, piper: PiperTTS
) -> None:
    """After "Delete all 2 tasks?" a short, clipped "yes" is heard as the answer it
    nearly is; the same sound with no question pending is left as Whisper hears it,
    and nothing is deleted by it."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        for title in ("milk", "eggs"):
            response = await client.post("/v1/tasks", headers=auth, json={"title": title})
            assert response.status_code == 201, response.text
    delete_all = piper.synthesize_now("Delete all of my tasks.", steady=True).resampled(16000)
    async with connect(socket_url(base_url, auth)) as socket:
        await socket.recv()  # ready
        heard, _ = await spoken_turn(socket, clipped_yes(piper))
        assert heard.lower().strip(" .!?") != "yes"  # nothing asked: no answer is expected
        _, asked = await spoken_turn(socket, delete_all.pcm)
        assert asked == "Delete all 2 tasks?"
        heard, done = await spoken_turn(socket, clipped_yes(piper))
    assert heard == "yes"
    assert done == "Deleted 2 tasks."
    async with httpx.AsyncClient(base_url=base_url) as client:
        assert (await client.get("/v1/tasks", headers=auth)).json() == []
