"""The frames our pipeline passes between its stages, and the record of one turn
that travels with them so each stage can note what it did and when."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from pipecat.frames.frames import (
    DataFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
    SystemFrame,
)

from speech.audio import Audio


@dataclass(eq=False)
class TurnRecord:
    """One user turn and the reply to it. Times are `time.perf_counter()` values."""

    last_speech: float  # when the last frame with speech in it arrived
    ended: float  # when the end of the turn was decided
    ended_by: str = "silence"  # or "whole request" (a short pause) or "too_long"
    stages: dict[str, float] = field(default_factory=dict)  # milliseconds
    clauses: list[tuple[str, float]] = field(default_factory=list)  # text, seconds of audio
    audio_made: float | None = None  # first reply audio synthesized
    audio_sent: float | None = None  # first reply audio written to the client
    sent_seconds: float = 0.0  # reply audio written so far
    # Reply audio the listener has played, when the channel says (a phone call's marks
    # come back as Twilio plays each clause); None where writing it is hearing it.
    played_seconds: float | None = None
    finished: bool = False  # the whole reply was written
    agent_replied: bool = False  # the agent answered (and keeps the reply in its history)
    transcript: str = ""  # what speech-to-text heard (logged at DEBUG only)
    speculative: bool = False  # the first clause's audio was made while the user paused
    # Names the turn in logs and traces; random, so it says nothing about the user.
    turn_id: str = field(default_factory=lambda: secrets.token_hex(8))

    def sent(self, audio: bytes, sample_rate: int) -> None:
        """``audio`` (16-bit PCM) of the reply was written to the client."""
        if self.audio_sent is None:
            self.audio_sent = now()
        self.sent_seconds += len(audio) / 2 / sample_rate

    def heard(self) -> str:
        """The words of the reply the user has heard: whole clauses, then the share
        of the clause being played, rounded down to whole words."""
        left = self.sent_seconds if self.played_seconds is None else self.played_seconds
        words: list[str] = []
        for text, seconds in self.clauses:
            if left >= seconds:
                words.extend(text.split())
                left -= seconds
                continue
            share = text.split()
            words.extend(share[: int(len(share) * left / seconds)] if seconds else [])
            break
        return " ".join(words)

    def timings(self) -> dict[str, Any]:
        """The stages up to the first reply audio, sent as that audio goes out."""
        marks = dict(self.stages)
        marks["endpoint_wait"] = (self.ended - self.last_speech) * 1000
        if self.audio_made is not None:
            marks["audio_ready"] = (self.audio_made - self.last_speech) * 1000
        event: dict[str, Any] = {
            "type": "timings",
            "ended_by": self.ended_by,
            "speculative": self.speculative,
        }
        event.update({name: round(ms, 1) for name, ms in marks.items()})
        # Moments on this machine's monotonic clock, for a client on the same machine
        # (the eval harness) to split its own measurement by.
        event["clock"] = {"ended": self.ended, "audio_ready": self.audio_made}
        return event

    def delivery(self) -> dict[str, Any]:
        """How the reply went out, sent after its last audio."""
        event: dict[str, Any] = {"type": "audio_end", "seconds": round(self.sent_seconds, 2)}
        if self.audio_made is not None and self.audio_sent is not None:
            event["send"] = round((self.audio_sent - self.audio_made) * 1000, 1)
            event["first_audio"] = round((self.audio_sent - self.last_speech) * 1000, 1)
        return event


def now() -> float:
    return time.perf_counter()


@dataclass
class BadInput(SystemFrame):
    """The client sent something that is not audio we can take."""

    message: str


@dataclass
class Typed(SystemFrame):
    """A whole turn that came as text, not speech (keys pressed on a phone)."""

    text: str


@dataclass
class TurnPaused(SystemFrame):
    """A short silence inside a turn: the moment to start speech-to-text early."""

    audio: Audio
    pause: int = 0  # which pause of the stream this is


@dataclass
class EndTurnNow(SystemFrame):
    """Upstream, from speech-to-text: the words so far are a whole request, so the
    pause that followed them ends the turn (the pause is named by its number)."""

    pause: int


@dataclass
class ShortAnswerExpected(SystemFrame):
    """Upstream, from speech-to-text: at this pause the assistant is waiting for an
    answer a word or two long, so a turn that short may end on a shorter silence."""

    pause: int


@dataclass
class TurnResumed(SystemFrame):
    """Speech again after a pause: the early transcript is stale, and so is the
    reply rehearsed on it."""


@dataclass
class Rehearse(SystemFrame):
    """Downstream, from speech-to-text: the words at a pause that did not end the
    turn; the reply to them may be worked out (and nothing kept) while it is judged."""

    text: str


@dataclass
class SpeakAhead(SystemFrame):
    """Downstream, from the replier: the first clause the rehearsed reply would say;
    its audio may be made now and kept until a reply says exactly these words."""

    text: str


@dataclass
class TurnEnded(DataFrame):
    audio: Audio
    record: TurnRecord
    too_long: bool = False


@dataclass
class Heard(DataFrame):
    text: str
    record: TurnRecord
    too_long: bool = False


@dataclass
class Clause(DataFrame):
    """A piece of the reply to speak."""

    text: str
    record: TurnRecord


@dataclass
class ReplyDone(DataFrame):
    text: str
    record: TurnRecord


@dataclass
class AudioStart(OutputTransportMessageFrame):
    """Tells the client reply audio follows; marks the record's audio as started."""

    record: TurnRecord | None = None


@dataclass
class AudioEnd(OutputTransportMessageFrame):
    """After the reply's last audio; says when its first audio went out."""

    record: TurnRecord | None = None


@dataclass
class ClauseEnd(OutputTransportMessageFrame):
    """After each clause's audio, in order with it: a channel that can tell when the
    listener has played up to here (a phone call's marks) uses it."""

    record: TurnRecord | None = None
    seconds: float = 0.0  # reply audio up to the end of this clause


@dataclass
class Timings(OutputTransportMessageUrgentFrame):
    """Stage timings, sent at once when the first reply audio is ready."""

    record: TurnRecord | None = None
