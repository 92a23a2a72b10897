"""A live voice conversation over one WebSocket, as a pipecat pipeline:

    FastAPI WebSocket (speech/protocol.py) → TurnDetector → Transcriber → Replier
    → Speaker → FastAPI WebSocket

The output transport writes reply audio at playback speed, so a barge-in stops the
sound within one 40 ms chunk and the words never sent are known to be unheard.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import Iterable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from pipecat.frames.frames import OutputTransportMessageUrgentFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner

from speech.audio import Audio, AudioError, read_wav, write_wav
from speech.endpoint import Endpointer, StreamingVAD
from speech.frames import Clause, ReplyDone, TurnRecord, now
from speech.models import cache_dir
from speech.observe import TurnDone, TurnObserver
from speech.pace import IDLE, AudioPace
from speech.processors import FIXED_PHRASES, Replier, Speaker, Transcriber, TurnDetector
from speech.protocol import Encoding, VoiceProtocol
from speech.stt import WhisperSTT
from speech.tts import PiperTTS
from speech.turn import Responder

INPUT_RATES = (8000, 16000, 24000, 44100, 48000)


def phrase_cache(tts: PiperTTS, phrases: Iterable[str] = FIXED_PHRASES) -> dict[str, Audio]:
    """Audio for the phrases said without the agent (blocking: at start-up), kept on
    disk so a restart does not make them again."""
    folder = cache_dir() / "phrases"
    cache: dict[str, Audio] = {}
    for text in phrases:
        key = hashlib.blake2b(f"{tts.voice_name}|{text}".encode(), digest_size=8).hexdigest()
        path = folder / f"{key}.wav"
        try:
            cache[text] = read_wav(path.read_bytes())
            continue
        except (OSError, AudioError):
            pass
        cache[text] = tts.synthesize_now(text)
        folder.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(f".{os.getpid()}.tmp")
        staging.write_bytes(write_wav(cache[text]))
        staging.replace(path)  # atomic: a half-written file is never read
    return cache


class VoiceConnection:
    """One client's pipeline; `run()` returns when the client leaves or `stop()`."""

    def __init__(
        self,
        socket: WebSocket,
        stt: WhisperSTT,
        tts: PiperTTS,
        responder: Responder,
        *,
        phrases: dict[str, Audio],
        in_rate: int = 16000,
        out_rate: int = 16000,
        encoding: Encoding = "pcm16",
        endpointer: Endpointer | None = None,
        idle_seconds: float | None = None,
        pace: AudioPace | None = None,
        conversation: str | None = None,
        serializer: FrameSerializer | None = None,
        on_turn: TurnDone | None = None,
    ) -> None:
        """``serializer`` speaks another wire format over the socket (a phone call's
        Twilio Media Streams); by default it is our own voice protocol. ``on_turn`` is
        called with each turn's record once its reply has gone out."""
        self.socket = socket
        self.conversation = conversation  # the conversation the user's turns continue
        self.idle_seconds = idle_seconds
        self._closing = False
        self.serializer = serializer or VoiceProtocol(
            in_rate=in_rate,
            out_rate=out_rate,
            encoding=encoding,
            pace=pace or AudioPace(),
            refuse=self.refuse,
        )
        transport = FastAPIWebsocketTransport(
            socket,
            FastAPIWebsocketParams(
                audio_in_enabled=True,
                audio_in_sample_rate=in_rate,
                audio_out_enabled=True,
                audio_out_sample_rate=out_rate,
                serializer=self.serializer,
                allowed_origins=[],  # the token, not the page's origin, admits a client
            ),
        )
        output = transport.output()
        self._observer = TurnObserver(on_turn, output) if on_turn is not None else None
        pipeline = Pipeline(
            [
                transport.input(),
                TurnDetector(endpointer or Endpointer(StreamingVAD())),
                Transcriber(stt, responder),
                Replier(responder),
                Speaker(tts, phrases, out_rate=out_rate),
                output,
            ]
        )
        self.worker = PipelineWorker(
            pipeline,
            params=PipelineParams(audio_in_sample_rate=in_rate, audio_out_sample_rate=out_rate),
            enable_rtvi=False,
            enable_turn_tracking=False,
            idle_timeout_secs=None,  # a quiet open page is not a stalled bot
            observers=[self._observer] if self._observer is not None else None,
        )

        @transport.event_handler("on_client_disconnected")
        async def _gone(_transport: object, _socket: WebSocket) -> None:
            await self.worker.cancel(reason="client left")

    async def run(self) -> None:
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(self.worker)
        watching = asyncio.create_task(self._close_when_idle())
        try:
            await runner.run()
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            if self._observer is not None:
                self._observer.flush()

    async def refuse(self, code: int, reason: str) -> None:
        """Tell the client why with an `error` event, then close with ``code``; the
        pipeline ends when the transport sees the socket go."""
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # it may be gone already
            await self.socket.send_json({"type": "error", "message": reason})
            await self.socket.close(code=code, reason=reason)

    async def _close_when_idle(self) -> None:
        """A socket that neither sends nor receives audio for ``idle_seconds`` holds a
        pipeline for nothing: close it."""
        if self.idle_seconds is None:
            return
        while True:
            quiet = time.monotonic() - getattr(self.serializer, "last_audio", time.monotonic())
            if quiet >= self.idle_seconds:
                await self.refuse(IDLE, f"no audio for {self.idle_seconds:g} s")
                return
            await asyncio.sleep(self.idle_seconds - quiet)

    async def announce(self, text: str, event: dict[str, Any]) -> bool:
        """Say something the user did not ask for (a reminder is due): ``event`` goes
        to the client at once, then ``text`` is spoken as a reply. False when the
        connection is already closing."""
        if self._closing or self.worker.has_finished():
            return False
        record = TurnRecord(last_speech=now(), ended=now(), ended_by="service")
        await self.worker.queue_frames(
            [
                OutputTransportMessageUrgentFrame(message=event),
                Clause(text=text, record=record),
                ReplyDone(text=text, record=record),
            ]
        )
        return True

    async def stop(self, reason: str) -> None:
        await self.worker.cancel(reason=reason)
