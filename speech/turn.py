"""One spoken turn without a live connection (`lifeos talk`), and the `Responder`:
what the speech pipeline is given instead of the agent itself."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from speech.audio import Audio
from speech.stt import WhisperSTT
from speech.tts import PiperTTS
from speech.vad import speech_in, trimmed

NOTHING_HEARD = "Sorry, I didn't hear anything. Please try again."


class Responder(Protocol):
    """The agent as speech sees it: text in, reply clauses out."""

    def reply(self, text: str, stages: dict[str, float]) -> AsyncIterator[str]:
        """The reply to ``text``, first clause first. The responder writes how long its
        own stages took (milliseconds, e.g. "intent", "action") into ``stages``."""
        ...

    async def cut_short(self, heard: str) -> None:
        """The user talked over the last reply and heard only ``heard`` of it: the
        rest must not count as said (it leaves the dialogue history)."""
        ...


@dataclass
class SpokenReply:
    heard: str
    said: str
    audio: list[Audio]
    timings: dict[str, float] = field(default_factory=dict)  # stage → milliseconds


async def answer(audio: Audio, stt: WhisperSTT, tts: PiperTTS, responder: Responder) -> SpokenReply:
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
        async for clause in responder.reply(heard, timings):
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
