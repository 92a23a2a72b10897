"""livekit-agents' audio input and output for tests: a recording as the
participant's microphone, and the reply audio kept instead of played."""

from __future__ import annotations

import asyncio

from livekit import rtc
from livekit.agents.voice import io

from speech.audio import Audio

FRAME_MS = 20


class RecordingInput(io.AudioInput):
    """The recording in 20 ms frames, as fast as they are read, then nothing more
    (the microphone stays open, as a participant's does). `then` speaks more, at the
    pace of speech, once ``ready`` says so (e.g. over a reply)."""

    def __init__(self, audio: Audio) -> None:
        super().__init__(label="recording")
        self._rate = audio.rate
        self._chunks = self._split(audio)
        self._later: tuple[asyncio.Event, list[bytes]] | None = None
        self._paced = False
        self._done = asyncio.Event()  # never set: after the recording, silence of no frames

    def then(self, ready: asyncio.Event, audio: Audio) -> None:
        assert audio.rate == self._rate
        self._later = (ready, self._split(audio))

    def _split(self, audio: Audio) -> list[bytes]:
        step = audio.rate * FRAME_MS // 1000 * 2
        return [audio.pcm[i : i + step] for i in range(0, len(audio.pcm), step)]

    async def __anext__(self) -> rtc.AudioFrame:
        if not self._chunks and self._later is not None:
            ready, chunks = self._later
            await ready.wait()
            self._chunks, self._later, self._paced = chunks, None, True
        if not self._chunks:
            await self._done.wait()
        if self._paced:
            await asyncio.sleep(FRAME_MS / 1000)
        chunk = self._chunks.pop(0)
        return rtc.AudioFrame(chunk, self._rate, 1, len(chunk) // 2)


class KeptOutput(io.AudioOutput):
    """Reply audio kept per reply; `replies` hands each one over when it ends. With
    ``realtime`` it takes as long as playing it would, so it can be talked over."""

    def __init__(self, *, realtime: bool = False) -> None:
        super().__init__(label="kept", capabilities=io.AudioOutputCapabilities(pause=False))
        self.replies: asyncio.Queue[list[rtc.AudioFrame]] = asyncio.Queue()
        self.realtime = realtime
        self.played = 0.0  # seconds of the current reply played so far
        self._frames: list[rtc.AudioFrame] = []
        self._marks: list[tuple[float, asyncio.Event]] = []

    def after(self, seconds: float) -> asyncio.Event:
        """Set once a reply has played for ``seconds``."""
        mark = asyncio.Event()
        self._marks.append((seconds, mark))
        return mark

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._frames:
            self.played = 0.0
            self.on_playback_started(created_at=0.0)
        self._frames.append(frame)
        if self.realtime:
            await asyncio.sleep(frame.duration)
        self.played += frame.duration
        for seconds, mark in self._marks:
            if self.played >= seconds:
                mark.set()

    def flush(self) -> None:
        super().flush()
        if self._pending_playback_count:
            self._finish(interrupted=False)

    def clear_buffer(self) -> None:
        if self._pending_playback_count:
            self._finish(interrupted=True)

    def _finish(self, *, interrupted: bool) -> None:
        frames, self._frames = self._frames, []
        self.on_playback_finished(playback_position=self.played, interrupted=interrupted)
        self.replies.put_nowait(frames)
