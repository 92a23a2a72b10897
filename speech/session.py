"""A live voice conversation over one connection: audio frames in, events and reply
audio out. Transport-agnostic: the socket hands in frames and two send functions.

The turn ends on silence (speech/endpoint.py). Speech-to-text starts on the first
short pause and its result is kept if the pause becomes the end of the turn. The
reply is spoken clause by clause; if the user starts talking over it, playback
stops and the rest is not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from speech.audio import SPEECH_RATE, Audio
from speech.endpoint import Endpointer, StreamingVAD, TurnEvent
from speech.stt import Transcript, WhisperSTT
from speech.tts import PiperTTS
from speech.turn import Responder

SendAudio = Callable[[bytes], Awaitable[None]]
SendEvent = Callable[[dict[str, Any]], Awaitable[None]]
CHUNK_SECONDS = 0.1  # reply audio is sent in 100 ms pieces, so it can stop quickly


class VoiceSession:
    def __init__(
        self,
        stt: WhisperSTT,
        tts: PiperTTS,
        respond: Responder,
        send_audio: SendAudio,
        send_event: SendEvent,
        *,
        out_rate: int = SPEECH_RATE,
        endpointer: Endpointer | None = None,
    ) -> None:
        self.stt, self.tts, self.respond = stt, tts, respond
        self.send_audio, self.send_event = send_audio, send_event
        self.out_rate = out_rate
        self.endpointer = endpointer or Endpointer(StreamingVAD())
        self._speculative: asyncio.Task[Transcript] | None = None
        self._replying: asyncio.Task[None] | None = None
        self._ended_at = 0.0

    async def hear(self, pcm: bytes) -> None:
        """Take a piece of 16 kHz PCM16 from the client."""
        for event in self.endpointer.feed(pcm):
            await self._on(event)

    async def close(self) -> None:
        """Stop everything this session started; nothing is left running."""
        for task in (self._speculative, self._replying):
            await _stop(task)

    async def _on(self, event: TurnEvent) -> None:
        if event.kind == "start":
            await self._barge_in()
            await self.send_event({"type": "speech_started", "at": event.at})
        elif event.kind == "pause":
            audio = self.endpointer.turn_audio()
            self._speculative = asyncio.create_task(self.stt.transcribe(audio))
        elif event.kind == "resume":
            await self._drop_speculative()
        elif event.kind in ("end", "too_long"):
            self._ended_at = time.perf_counter()
            audio = self.endpointer.turn_audio()
            self.endpointer.next_turn()
            if event.kind == "too_long":
                await self._drop_speculative()
                await self.send_event(
                    {"type": "notice", "message": "That was long; answering what I heard so far."}
                )
            self._replying = asyncio.create_task(self._answer(audio))

    async def _answer(self, audio: Audio) -> None:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        transcript = await self._speculative if self._speculative else None
        self._speculative = None
        if transcript is None:
            transcript = await self.stt.transcribe(audio)
        timings["stt_wait"] = (time.perf_counter() - started) * 1000
        timings["stt"] = transcript.seconds * 1000
        text = transcript.text.strip()
        await self.send_event({"type": "transcript", "text": text})
        if not text:
            return
        said: list[str] = []
        first_audio = None
        async for clause in self.respond(text):
            said.append(clause)
            if first_audio is None:
                timings["respond_first_clause"] = (time.perf_counter() - started) * 1000
            async for piece in self.tts.stream(clause):
                if first_audio is None:
                    first_audio = time.perf_counter()
                    timings["first_audio"] = (first_audio - self._ended_at) * 1000
                    await self.send_event({"type": "audio_start", "rate": self.out_rate})
                await self._play(piece)
        await self.send_event({"type": "reply", "text": " ".join(said)})
        await self.send_event({"type": "audio_end"})
        await self.send_event({"type": "timings", **{k: round(v, 1) for k, v in timings.items()}})

    async def _play(self, piece: Audio) -> None:
        pcm = piece.resampled(self.out_rate).pcm
        step = int(self.out_rate * CHUNK_SECONDS) * 2
        for i in range(0, len(pcm), step):
            await self.send_audio(pcm[i : i + step])
            await asyncio.sleep(0)  # let a barge-in cancel us between pieces

    async def _barge_in(self) -> None:
        if self._replying is not None and not self._replying.done():
            await _stop(self._replying)
            await self.send_event({"type": "interrupted"})
        self._replying = None

    async def _drop_speculative(self) -> None:
        await _stop(self._speculative)
        self._speculative = None


async def _stop(task: asyncio.Task[Any] | None) -> None:
    """Cancel a task and wait until it has really finished."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
