"""One spoken turn without a live connection: audio in, reply text and audio out,
with the time each stage took. The streaming pipeline runs the same stages."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from speech.audio import Audio
from speech.stt import WhisperSTT
from speech.tts import PiperTTS
from speech.vad import speech_in, trimmed

# What the pipeline is given instead of the agent itself: text in, reply clauses out.
Responder = Callable[[str], AsyncIterator[str]]

NOTHING_HEARD = "Sorry, I didn't hear anything. Please try again."


@dataclass
class SpokenReply:
    heard: str
    said: str
    audio: list[Audio]
    timings: dict[str, float] = field(default_factory=dict)  # stage → milliseconds


async def answer(audio: Audio, stt: WhisperSTT, tts: PiperTTS, respond: Responder) -> SpokenReply:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    spans = speech_in(audio)
    timings["vad"] = (time.perf_counter() - started) * 1000
    heard = ""
    if spans:
        transcript = await stt.transcribe(trimmed(audio, spans))
        heard = transcript.text
        timings["stt"] = transcript.seconds * 1000
    said: list[str] = []
    if heard:
        started = time.perf_counter()
        async for clause in respond(heard):
            said.append(clause)
        timings["respond"] = (time.perf_counter() - started) * 1000
    else:
        said = [NOTHING_HEARD]
    started = time.perf_counter()
    pieces = []
    async for piece in tts.stream(" ".join(said)):
        if not pieces:
            timings["tts_first_chunk"] = (time.perf_counter() - started) * 1000
        pieces.append(piece)
    return SpokenReply(heard, " ".join(said), pieces, timings)
