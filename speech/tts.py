"""Text to speech with Piper and the en_US-joe-medium voice, one clause at a time
so the first words can play while the rest is still being made."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator

import numpy as np
from piper.config import SynthesisConfig

from speech.audio import Audio, from_float
from speech.models import piper_voice

_CLAUSE = re.compile(r"(?<=[.!?;:])\s+|(?<=,)\s+(?=\S{3,})")


def clauses(text: str, first_max_words: int = 8) -> Iterator[str]:
    """Sentences, with a long first sentence cut at its first comma: the first
    sound comes sooner when the first piece is short."""
    pieces = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p.strip()]
    if pieces and len(pieces[0].split()) > first_max_words and "," in pieces[0]:
        head, tail = pieces[0].split(",", 1)
        pieces[0:1] = [head.strip() + ",", tail.strip()]
    yield from pieces


class PiperTTS:
    def __init__(self) -> None:
        from piper import PiperVoice

        model, config = piper_voice()
        self.voice_name = model.stem  # en_US-joe-medium
        self.voice = PiperVoice.load(model, config_path=config)
        self.rate = self.voice.config.sample_rate

    def synthesize_now(self, text: str, *, steady: bool = False) -> Audio:
        """``steady`` turns off the voice's random variation: the same text then gives
        the same audio, which test and evaluation corpora need."""
        config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0) if steady else None
        chunks = [chunk.audio_float_array for chunk in self.voice.synthesize(text, config)]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return Audio(from_float(samples), self.rate)

    async def stream(self, text: str) -> AsyncIterator[Audio]:
        """Audio per clause, each made in a worker thread."""
        for clause in clauses(text):
            yield await asyncio.to_thread(self.synthesize_now, clause)
