"""Speech to text with faster-whisper (CTranslate2): int8 on the CPU, greedy
decoding, English, no timestamps — the settings that keep a command fast."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from speech.audio import SPEECH_RATE, Audio
from speech.models import whisper_path


@dataclass(frozen=True)
class Transcript:
    text: str
    seconds: float  # how long recognition took


class WhisperSTT:
    """Load once (about a second); transcribe in a worker thread, never on the loop."""

    def __init__(
        self, model: str = "tiny.en", *, threads: int = 2, cache: Path | None = None
    ) -> None:
        from faster_whisper import WhisperModel

        self.name = model
        self.model = WhisperModel(
            str(whisper_path(model, cache)), device="cpu", compute_type="int8", cpu_threads=threads
        )

    async def transcribe(self, audio: Audio) -> Transcript:
        return await asyncio.to_thread(self.transcribe_now, audio)

    def transcribe_now(self, audio: Audio) -> Transcript:
        started = time.perf_counter()
        samples = audio.resampled(SPEECH_RATE).as_float()
        if samples.size == 0:
            return Transcript("", 0.0)
        segments, _info = self.model.transcribe(
            samples,
            language="en",
            beam_size=1,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return Transcript(text, time.perf_counter() - started)
