"""Audio as the pipeline carries it: 16-bit little-endian mono PCM plus its rate,
and the conversions between channels (resampling, μ-law, WAV files)."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np
import soxr

SPEECH_RATE = 16_000  # what speech-to-text wants
MAX_SECONDS = 600  # a longer upload is refused, not decoded


class AudioError(ValueError):
    """Audio that cannot be used; the message says why, for the user."""


@dataclass(frozen=True)
class Audio:
    pcm: bytes  # int16 little-endian, mono
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.rate

    def samples(self) -> np.ndarray:
        return np.frombuffer(self.pcm, dtype="<i2")

    def as_float(self) -> np.ndarray:
        return self.samples().astype(np.float32) / 32768.0

    def resampled(self, rate: int) -> Audio:
        if rate == self.rate or not self.pcm:
            return Audio(self.pcm, rate)
        out = soxr.resample(self.as_float(), self.rate, rate, quality="HQ")
        return Audio(from_float(out), rate)

    def peak(self) -> float:
        return float(np.abs(self.as_float()).max()) if self.pcm else 0.0


def from_float(samples: np.ndarray) -> bytes:
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def read_wav(data: bytes) -> Audio:
    """A WAV file as mono PCM16 at its own rate; anything else is refused by name."""
    try:
        with wave.open(io.BytesIO(data)) as reader:
            channels, width, rate = (
                reader.getnchannels(),
                reader.getsampwidth(),
                reader.getframerate(),
            )
            frames = reader.getnframes()
            if frames / max(rate, 1) > MAX_SECONDS:
                raise AudioError(f"the recording is longer than {MAX_SECONDS // 60} minutes")
            raw = reader.readframes(frames)
    except (wave.Error, EOFError) as exc:
        detail = str(exc) or "it does not start with a RIFF/WAVE header"
        raise AudioError(f"that is not a WAV file I can read: {detail}") from exc
    if width != 2:
        raise AudioError(f"the WAV file has {width * 8}-bit samples; send 16-bit PCM")
    if not 8000 <= rate <= 48000:
        raise AudioError(f"a sample rate of {rate} Hz is not supported (8000–48000)")
    samples = np.frombuffer(raw, dtype="<i2")
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels)
        samples = samples.mean(axis=1).astype("<i2")
    return Audio(samples.tobytes(), rate)


def write_wav(audio: Audio) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(audio.rate)
        writer.writeframes(audio.pcm)
    return buffer.getvalue()


# G.711 μ-law, as telephone audio (Twilio Media Streams) carries it at 8 kHz.
_BIAS, _CLIP = 0x84, 32635


def mulaw_encode(pcm: bytes) -> bytes:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
    sign = np.where(samples < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(samples), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def mulaw_decode(data: bytes) -> bytes:
    codes = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign, exponent, mantissa = codes & 0x80, (codes >> 4) & 0x07, codes & 0x0F
    magnitude = ((mantissa << 3) + _BIAS) << exponent
    samples = np.where(sign != 0, _BIAS - magnitude, magnitude - _BIAS)
    return samples.astype("<i2").tobytes()
