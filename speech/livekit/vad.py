"""Our turn ending as livekit-agents' VAD: Silero scores each 32 ms frame through
our `Endpointer`, whose "start" and "end" (480 ms of silence by default) become the
session's start and end of speech. The end carries the turn's audio from a little
before its first word, as the voice socket hands it to Whisper."""

from __future__ import annotations

from collections.abc import Callable

from livekit import rtc
from livekit.agents import vad

from speech.audio import SPEECH_RATE
from speech.endpoint import FRAME, Endpointer, StreamingVAD, TurnEvent
from speech.livekit.frames import as_audio, as_frame

FRAME_SECONDS = FRAME / SPEECH_RATE


class EndpointerVAD(vad.VAD):
    """``endpointer`` makes a fresh `Endpointer` per stream (one per participant)."""

    def __init__(self, endpointer: Callable[[], Endpointer] | None = None) -> None:
        super().__init__(capabilities=vad.VADCapabilities(update_interval=FRAME_SECONDS))
        self._endpointer = endpointer or (lambda: Endpointer(StreamingVAD()))

    @property
    def model(self) -> str:
        return "silero"

    @property
    def provider(self) -> str:
        return "lifeos"

    def stream(self) -> vad.VADStream:
        return _EndpointerStream(self, self._endpointer())


class _EndpointerStream(vad.VADStream):
    def __init__(self, owner: EndpointerVAD, endpointer: Endpointer) -> None:
        self._endpointer = endpointer
        self._resampler: rtc.AudioResampler | None = None
        self._rate = 0
        self._pending = b""
        self._frames = 0  # 32 ms frames scored so far
        self._started: float | None = None  # stream seconds at which the turn began
        super().__init__(owner)

    async def _main_task(self) -> None:
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                self._endpointer.next_turn()  # a hard boundary: the next frame starts afresh
                continue
            for frame in self._at_speech_rate(item):
                self._pending += bytes(frame.data)
            while len(self._pending) >= FRAME * 2:
                chunk, self._pending = self._pending[: FRAME * 2], self._pending[FRAME * 2 :]
                self._score(chunk)

    def _at_speech_rate(self, frame: rtc.AudioFrame) -> list[rtc.AudioFrame]:
        if frame.sample_rate == SPEECH_RATE and frame.num_channels == 1:
            return [frame]
        if self._resampler is None or self._rate != frame.sample_rate:
            self._rate = frame.sample_rate
            self._resampler = rtc.AudioResampler(frame.sample_rate, SPEECH_RATE, num_channels=1)
        if frame.num_channels > 1:  # the resampler takes what it was made for: mono
            frame = as_frame(as_audio(frame))
        return self._resampler.push(frame)

    def _score(self, chunk: bytes) -> None:
        """One 32 ms frame: an inference event, then the turn's own events."""
        events = self._endpointer.feed(chunk)
        self._frames += 1
        silent = self._frames - 1 - self._endpointer.speech_seen
        voiced = self._endpointer.voiced_run
        self._event_ch.send_nowait(
            vad.VADEvent(
                type=vad.VADEventType.INFERENCE_DONE,
                samples_index=self._frames * FRAME,
                timestamp=self._frames * FRAME_SECONDS,
                speech_duration=self._turn_seconds(),
                silence_duration=max(silent, 0) * FRAME_SECONDS,
                speaking=voiced > 0,
                raw_accumulated_speech=voiced * FRAME_SECONDS,
                raw_accumulated_silence=max(silent, 0) * FRAME_SECONDS if voiced == 0 else 0.0,
                probability=1.0 if voiced else 0.0,
            )
        )
        for event in events:
            self._turn_event(event, max(silent, 0) * FRAME_SECONDS)

    def _turn_seconds(self) -> float:
        if self._started is None or not self._endpointer.in_turn:
            return 0.0
        return self._frames * FRAME_SECONDS - self._started

    def _turn_event(self, event: TurnEvent, silence: float) -> None:
        common = {
            "samples_index": int(event.at * SPEECH_RATE),
            "timestamp": event.at,
            "speech_duration": self._turn_seconds(),
            "silence_duration": silence,
        }
        if event.kind == "start":
            self._started = event.at
            common["speech_duration"] = self._turn_seconds()
            self._event_ch.send_nowait(
                vad.VADEvent(type=vad.VADEventType.START_OF_SPEECH, speaking=True, **common)
            )
        elif event.kind in ("end", "too_long"):
            turn = as_frame(self._endpointer.turn_audio())
            self._event_ch.send_nowait(
                vad.VADEvent(type=vad.VADEventType.END_OF_SPEECH, frames=[turn], **common)
            )
            if event.kind == "too_long":  # a monologue is not cut into 30 s commands
                self._endpointer.skip_until_silence()
            else:
                self._endpointer.next_turn()
