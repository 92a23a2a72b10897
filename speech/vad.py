"""Is anyone speaking? Silero VAD (the model faster-whisper ships), ~70 µs a frame."""

from __future__ import annotations

from dataclasses import dataclass

from faster_whisper.vad import VadOptions, get_speech_timestamps

from speech.audio import SPEECH_RATE, Audio


@dataclass(frozen=True)
class Speech:
    start: float  # seconds into the audio
    end: float


def speech_in(audio: Audio, *, threshold: float = 0.5, min_speech_ms: int = 120) -> list[Speech]:
    """The spans of speech, so silence and noise alone are told apart from a command."""
    samples = audio.resampled(SPEECH_RATE).as_float()
    options = VadOptions(
        threshold=threshold,
        min_speech_duration_ms=min_speech_ms,
        min_silence_duration_ms=300,
        speech_pad_ms=100,
    )
    spans = get_speech_timestamps(samples, options)
    return [Speech(s["start"] / SPEECH_RATE, s["end"] / SPEECH_RATE) for s in spans]


def trimmed(audio: Audio, spans: list[Speech]) -> Audio:
    """Only the stretch from the first word to the last: Whisper works on less, and
    trailing silence is where it likes to invent words."""
    if not spans:
        return Audio(b"", audio.rate)
    first, last = int(spans[0].start * audio.rate), int(spans[-1].end * audio.rate)
    return Audio(audio.pcm[first * 2 : last * 2], audio.rate)
