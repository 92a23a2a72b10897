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
