"""Whisper as livekit-agents' STT. It hears whole turns (no streaming): the session
wraps it with our VAD, which hands it each turn's audio when the turn ends."""

from __future__ import annotations

import uuid

from livekit.agents import stt
from livekit.agents.types import NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.utils import AudioBuffer

from speech.livekit.frames import as_audio
from speech.stt import WhisperSTT
from speech.turn import Responder


class WhisperLiveKitSTT(stt.STT):
    """``responder`` (optional) tells recognition what the conversation expects
    ("yes"/"no" after a confirmation) and the user's own names, as on the socket."""

    def __init__(self, whisper: WhisperSTT, responder: Responder | None = None) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self.whisper = whisper
        self.responder = responder

    @property
    def model(self) -> str:
        return f"whisper-{self.whisper.name}"

    @property
    def provider(self) -> str:
        return "faster-whisper"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        audio = as_audio(buffer)
        expect, names = (), ()
        if self.responder is not None:
            expect = await self.responder.expected() or ()
            names = await self.responder.vocabulary()
        heard = await self.whisper.transcribe(audio, expect, names)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=uuid.uuid4().hex,
            alternatives=[stt.SpeechData(language="en", text=heard.text, end_time=audio.seconds)],
        )
