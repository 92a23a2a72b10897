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
    (the microphone stays open, as a participant's does)."""

    def __init__(self, audio: Audio) -> None:
        super().__init__(label="recording")
        step = audio.rate * FRAME_MS // 1000 * 2
        self._chunks = [audio.pcm[i : i + step] for i in range(0, len(audio.pcm), step)]
        self._rate = audio.rate
        self._done = asyncio.Event()  # never set: after the recording, silence of no frames

    async def __anext__(self) -> rtc.AudioFrame:
        if not self._chunks:
            await self._done.wait()
        chunk = self._chunks.pop(0)
        return rtc.AudioFrame(chunk, self._rate, 1, len(chunk) // 2)


class KeptOutput(io.AudioOutput):
    """Reply audio kept per reply; `replies` hands each one over when it ends."""

    def __init__(self) -> None:
        super().__init__(label="kept", capabilities=io.AudioOutputCapabilities(pause=False))
        self.replies: asyncio.Queue[list[rtc.AudioFrame]] = asyncio.Queue()
        self._frames: list[rtc.AudioFrame] = []

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._frames:
            self.on_playback_started(created_at=0.0)
        self._frames.append(frame)

    def flush(self) -> None:
        super().flush()
        if self._pending_playback_count:
            self._finish(interrupted=False)

    def clear_buffer(self) -> None:
        if self._pending_playback_count:
            self._finish(interrupted=True)

    def _finish(self, *, interrupted: bool) -> None:
        frames, self._frames = self._frames, []
        played = sum(f.duration for f in frames)
        self.on_playback_finished(playback_position=played, interrupted=interrupted)
        self.replies.put_nowait(frames)
