"""`lifeos talk`: one recorded utterance through the real voice pipeline — the same
WebSocket, pipecat pipeline and models a browser uses — served on a loopback port
inside this process, with the reply collected as audio."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from agent.loopback import loopback
from speech.audio import SPEECH_RATE, Audio
from speech.pace import AT_ONCE_SECONDS, SendPace

FRAME = 640  # 20 ms of 16 kHz PCM16
QUIET_AFTER = 1.5  # seconds of silence sent after the recording, so the turn can end


@dataclass
class Talked:
    heard: str = ""
    said: str = ""
    audio: Audio | None = None
    timings: dict[str, float] = field(default_factory=dict)


async def talk(app: Any, token: str, recording: Audio, *, session: str | None = None) -> Talked:
    query = f"token={token}" + (f"&session={session}" if session else "")
    async with loopback(app) as url:
        return await _converse(f"{url.replace('http', 'ws', 1)}/v1/voice?{query}", recording)


async def _send(socket: ClientConnection, pcm: bytes) -> None:
    pace = SendPace(AT_ONCE_SECONDS)
    for i in range(0, len(pcm), FRAME):
        frame = pcm[i : i + FRAME]
        await pace.before(len(frame) / 2 / SPEECH_RATE)
        await socket.send(frame)


async def _converse(url: str, recording: Audio) -> Talked:
    pcm = recording.resampled(SPEECH_RATE).pcm + bytes(int(SPEECH_RATE * QUIET_AFTER) * 2)
    result = Talked()
    reply = bytearray()
    rate = SPEECH_RATE
    async with connect(url, max_size=None) as socket:
        await socket.recv()  # ready
        await _send(socket, pcm)
        started = False
        while True:
            try:  # with no speech in the recording, nothing comes back
                message = await asyncio.wait_for(socket.recv(), timeout=30 if started else 2)
            except TimeoutError:
                break
            if isinstance(message, bytes):
                reply += message
                continue
            event = json.loads(message)
            kind = event["type"]
            started = started or kind == "speech_started"
            if kind == "transcript":
                result.heard = event["text"]
            elif kind == "audio_start":
                rate = event["rate"]
            elif kind == "timings":
                result.timings = {k: v for k, v in event.items() if isinstance(v, int | float)}
            elif kind == "reply":
                result.said = event["text"]
            elif kind == "audio_end":
                break
    result.audio = Audio(bytes(reply), rate) if reply else None
    return result
