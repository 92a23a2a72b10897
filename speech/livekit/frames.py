"""Between LiveKit's audio frames and our `Audio` (16-bit mono PCM plus its rate)."""

from __future__ import annotations

import numpy as np
from livekit import rtc

from speech.audio import Audio


def as_audio(frames: rtc.AudioFrame | list[rtc.AudioFrame]) -> Audio:
    """One `Audio` from LiveKit frames, mixed down to mono."""
    frame = rtc.combine_audio_frames(frames) if isinstance(frames, list) else frames
    if frame.samples_per_channel == 0:
        return Audio(b"", frame.sample_rate or 16000)
    samples = np.frombuffer(frame.data, dtype="<i2")
    if frame.num_channels > 1:
        samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype("<i2")
    return Audio(samples.tobytes(), frame.sample_rate)


def as_frame(audio: Audio) -> rtc.AudioFrame:
    return rtc.AudioFrame(
        data=audio.pcm,
        sample_rate=audio.rate,
        num_channels=1,
        samples_per_channel=len(audio.pcm) // 2,
    )
