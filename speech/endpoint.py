"""Finding the end of a turn in a live stream, frame by frame.

Silero VAD scores each 32 ms frame. A turn starts after a little speech, pauses
after a short silence — the moment to start speech-to-text speculatively — and
ends after a longer one; speech after a pause resumes the turn, and the early
transcript is thrown away. The silence waited for is part of the user's latency,
so both thresholds are settings the latency harness tunes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from speech.audio import SPEECH_RATE, Audio
from speech.models import silero_vad_path

FRAME = 512  # samples: 32 ms at 16 kHz, what Silero expects
CONTEXT = 64  # samples of the previous frame Silero reads with each frame


@functools.cache
def _silero_session() -> Any:
    """One ONNX session for every stream: the model is shared, the state is not."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = options.intra_op_num_threads = 1
    options.log_severity_level = 4
    return onnxruntime.InferenceSession(
        str(silero_vad_path()), providers=["CPUExecutionProvider"], sess_options=options
    )


class StreamingVAD:
    """Silero VAD with its recurrent state kept between frames."""

    def __init__(self) -> None:
        self.session = _silero_session()
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def probability(self, frame: np.ndarray) -> float:
        window = np.concatenate([self._context, frame.astype(np.float32)])[None, :]
        out, self._h, self._c = self.session.run(
            None, {"input": window, "h": self._h, "c": self._c}
        )
        self._context = frame[-CONTEXT:].astype(np.float32)
        return float(np.asarray(out).reshape(-1)[0])


Kind = Literal["start", "pause", "resume", "end", "too_long"]


@dataclass(frozen=True)
class TurnEvent:
    kind: Kind
    at: float  # seconds since the stream began


class Endpointer:
    def __init__(
        self,
        vad: StreamingVAD,
        *,
        threshold: float = 0.5,
        start_ms: int = 96,
        pause_ms: int = 64,
        end_ms: int = 480,
        max_turn_s: float = 30.0,
        pad_ms: int = 160,
        short_end_ms: int = 256,
        short_turn_ms: int = 1200,
    ) -> None:
        self.vad = vad
        self.threshold = threshold
        self.start_frames = _frames(start_ms)
        self.pause_frames = _frames(pause_ms)
        self.end_frames = _frames(end_ms)
        self.max_frames = _frames(int(max_turn_s * 1000))
        self.pad_frames = _frames(pad_ms)
        self.short_end_frames = _frames(short_end_ms)
        self.short_turn_frames = _frames(short_turn_ms)
        self._short_answer = False  # the assistant asked something a word or two answers
        self._pending = np.zeros(0, dtype=np.float32)
        self._frames: list[np.ndarray] = []  # this turn's frames (and a little before)
        self._dropped = 0  # frames forgotten by next_turn(): times stay stream-relative
        self._turn_start: int | None = None
        self._last_speech = -1
        self._voiced_run = 0
        self._paused = False
        self._closed = False  # after "end": quiet until next_turn()
        self._skipping = False  # after "too_long": ignore speech until the speaker stops

    @property
    def in_turn(self) -> bool:
        return self._turn_start is not None

    @property
    def paused(self) -> bool:
        """In a turn, silent past the short pause, with no speech since."""
        return self._paused

    @property
    def voiced_run(self) -> int:
        """How many frames in a row, up to the last one, were speech."""
        return self._voiced_run

    @property
    def speech_seen(self) -> int:
        """How many frames into the stream the last speech was (grows as speech comes)."""
        return self._dropped + self._last_speech

    def expect_short_answer(self) -> None:
        """The assistant is waiting for a short answer ("yes" to "Delete all 3
        tasks?"): this turn, if its speech stays that short, ends after the shorter
        silence. Someone answering in a word does not pause mid-sentence; a longer turn
        waits as any other."""
        self._short_answer = True

    def skip_until_silence(self) -> None:
        """Forget the turn and start no new one until the speaker pauses: a monologue
        is not chopped into a string of 30-second commands."""
        self.next_turn()
        self._skipping = True

    def feed(self, pcm: bytes) -> list[TurnEvent]:
        """Add 16 kHz PCM16 of any length; get the events it caused, in order."""
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        self._pending = np.concatenate([self._pending, samples])
        events: list[TurnEvent] = []
        while self._pending.size >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            self._frames.append(frame)
            events.extend(self._step(self.vad.probability(frame) >= self.threshold))
        return events

    def turn_audio(self) -> Audio:
        """The current (or just ended) turn, from a little before its first word."""
        if self._turn_start is None:
            return Audio(b"", SPEECH_RATE)
        first = max(0, self._turn_start - self.pad_frames)
        last = min(len(self._frames), self._last_speech + 1 + self.pad_frames)
        joined = np.concatenate(self._frames[first:last]) if last > first else np.zeros(0)
        return Audio((np.clip(joined, -1, 1) * 32767).astype("<i2").tobytes(), SPEECH_RATE)

    def _forget_old_frames(self) -> None:
        keep = self.pad_frames + self.start_frames
        dropped = len(self._frames) - keep
        self._frames = self._frames[-keep:]
        self._dropped += dropped
        self._last_speech -= dropped

    def next_turn(self) -> None:
        """Forget the finished turn (keep listening)."""
        self._turn_start, self._paused, self._voiced_run = None, False, 0
        self._short_answer = False
        keep = self._frames[-self.pad_frames :] if self.pad_frames else []
        dropped = len(self._frames) - len(keep)
        self._dropped += dropped
        self._frames = keep
        self._last_speech -= dropped  # may go negative: it only marks where speech was
        self._closed = False

    def _step(self, voiced: bool) -> list[TurnEvent]:
        if self._turn_start is None and len(self._frames) > 4 * self.pad_frames + 8:
            self._forget_old_frames()  # between turns (or skipping) keep only the recent past
        index = len(self._frames) - 1
        at = (self._dropped + index + 1) * FRAME / SPEECH_RATE
        self._voiced_run = self._voiced_run + 1 if voiced else 0
        if voiced:
            self._last_speech = index
        if self._closed:
            return []
        if self._skipping:
            if index - self._last_speech >= self.end_frames:
                self._skipping = False
            return []
        if self._turn_start is None:
            if self._voiced_run >= self.start_frames:
                self._turn_start = index - self.start_frames + 1
                started = (self._dropped + self._turn_start) * FRAME / SPEECH_RATE
                return [TurnEvent("start", started)]
            return []
        silent = index - self._last_speech
        if voiced and self._paused:
            self._paused = False
            return [TurnEvent("resume", at)]
        if index - self._turn_start >= self.max_frames:
            self._closed = True
            return [TurnEvent("too_long", at)]
        if silent >= self._end_frames():
            self._closed = True
            return [TurnEvent("end", at)]
        if silent >= self.pause_frames and not self._paused:
            self._paused = True
            return [TurnEvent("pause", at)]
        return []

    def _end_frames(self) -> int:
        assert self._turn_start is not None
        spoken = self._last_speech - self._turn_start + 1
        if self._short_answer and spoken <= self.short_turn_frames:
            return self.short_end_frames
        return self.end_frames


def _frames(ms: int) -> int:
    return max(1, round(ms / 1000 * SPEECH_RATE / FRAME))
