"""Piper as livekit-agents' TTS: each text is spoken a clause at a time, the first
clause's audio pushed out before the next is made."""

from __future__ import annotations

import uuid

from livekit.agents import tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

from speech.tts import PiperTTS


class PiperLiveKitTTS(tts.TTS):
    def __init__(self, piper: PiperTTS) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=piper.rate,
            num_channels=1,
        )
        self.piper = piper

    @property
    def model(self) -> str:
        return self.piper.voice_name

    @property
    def provider(self) -> str:
        return "piper"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _PiperStream(tts=self, input_text=text, conn_options=conn_options)


class _PiperStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        piper = self._tts.piper  # type: ignore[attr-defined]
        output_emitter.initialize(
            request_id=uuid.uuid4().hex,
            sample_rate=piper.rate,
            num_channels=1,
            mime_type="audio/pcm",
        )
        async for audio in piper.stream(self.input_text):
            output_emitter.push(audio.pcm)
        output_emitter.flush()
