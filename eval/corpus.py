"""The spoken corpus: commands from the dev set and multi-turn scripts, spoken by
Piper and several espeak-ng voices and speeds, some with a pause mid-sentence,
mixed with noise at several signal-to-noise ratios, some as 8 kHz μ-law phone
audio. Speech is generated into a cache folder on first use (never committed);
where the speech ends in each clip is known to the sample.

Real voices: one-word commands and spoken orders recorded by real people
(eval.real_voices), streamed as they were recorded, room sound and all; where
their speech ends is found by Silero VAD.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from eval.devset import load_dev_set
from eval.real_voices import Recording, load_orders, load_words, speech_dir
from speech.audio import Audio, read_wav

SCRIPTS = Path(__file__).parent / "data" / "scripts.yaml"
RATE = 16_000
LEAD = 0.3  # seconds of room sound before the first word
PAUSE = 0.45  # seconds of a mid-sentence pause (longer than our 192 ms "pause")
# name → how it is made; espeak-ng: voice variant and words per minute
VOICES: dict[str, tuple[str, int]] = {
    "piper-joe": ("piper", 0),
    "espeak-us": ("en-us", 165),
    "espeak-us-f": ("en-us+f3", 150),
    "espeak-gb": ("en-gb", 175),
    "espeak-us-fast": ("en-us", 210),
}
SNRS: tuple[float | None, ...] = (None, 20.0, 10.0)  # dB; None is clean


@dataclass
class Turn:
    text: str
    intent: str | None = None  # None: a follow-up only the conversation makes sense of
    slots: dict[str, Any] | None = None
    barge_in: bool = False  # spoken over the previous reply
    voice: str = "piper-joe"
    snr: float | None = None
    pause: bool = False  # a pause in the middle of the sentence
    recording: Recording | None = None  # a real person's recording instead of a voice


@dataclass
class Script:
    id: str
    turns: list[Turn]
    phone: bool = False  # 8 kHz μ-law through the phone encoding
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass
class Clip:
    """What the client streams for one turn: room sound, speech, room sound."""

    pcm: bytes  # 16-bit PCM at `rate`
    rate: int
    speech_start: int  # first and last sample of speech
    speech_end: int


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "lifeos" / "eval" / "speech"


def build(*, quick: bool = False, full: bool = False) -> list[Script]:
    """Every dev-set command as a one-turn script, plus the multi-turn scripts.
    The default run takes every eighth command (every intent, voice and noise level
    still appears) to stay under ten minutes for both configurations; --quick a
    handful; --full all of them."""
    _now, cases = load_dev_set()
    singles: list[Script] = []
    voices = list(VOICES)
    for i, case in enumerate(cases):
        words = case["text"].split()
        turn = Turn(
            case["text"],
            case["intent"],
            case.get("slots"),
            voice=voices[i % len(voices)],
            snr=SNRS[(i // len(voices)) % len(SNRS)],
            pause=len(words) >= 6 and i % 7 == 3,
        )
        singles.append(Script(f"dev-{i:03d}", [turn], phone=i % 6 == 2))
    scripts = [
        Script(
            raw["id"],
            [Turn(**t) for t in raw["turns"]],
            expect=raw.get("expect", {}),
        )
        for raw in yaml.safe_load(SCRIPTS.read_text())["scripts"]
    ]
    real = real_voices(quick=quick, full=full)
    if quick:
        return [singles[0], singles[2], singles[11], scripts[3], *real]  # one by phone
    chosen = singles if full else singles[::8]
    return chosen + scripts + real


def real_voices(*, quick: bool = False, full: bool = False) -> list[Script]:
    """One script per recording, none if the recordings are not there. The default
    takes every third word (every word still appears) and every twentieth order;
    --quick a "yes", a "no" and one order."""
    if speech_dir() is None:
        return []
    words = [(f"real-words-{i:03d}", r) for i, r in enumerate(load_words())]
    orders = [(f"real-order-{i:03d}", r) for i, r in enumerate(load_orders())]
    if quick:
        words = [next(w for w in words if w[1].reference == said) for said in ("yes", "no")]
        orders = orders[:1]
    elif not full:
        words, orders = words[::3], orders[::20]
    return [Script(name, [Turn(r.reference, recording=r)]) for name, r in words + orders]


def speech(turn: Turn) -> np.ndarray:
    """The words alone (16 kHz, float, silence trimmed), cached by voice and text;
    a recording's whole audio."""
    if turn.recording is not None:
        return turn.recording.audio.astype(np.float32) / 32768
    key = hashlib.blake2b(
        f"{turn.voice}|{turn.text}|{turn.pause}".encode(), digest_size=8
    ).hexdigest()
    path = cache_dir() / f"{key}.npy"
    if path.exists():
        return np.load(path)
    if turn.pause:
        words = turn.text.split()
        half = len(words) // 2
        parts = [_say(turn.voice, " ".join(words[:half])), _say(turn.voice, " ".join(words[half:]))]
        samples = np.concatenate([parts[0], np.zeros(int(PAUSE * RATE), np.float32), parts[1]])
    else:
        samples = _say(turn.voice, turn.text)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, samples)
    return samples


def clip(turn: Turn, *, phone: bool, tail: float, seed: int) -> Clip:
    if turn.recording is not None:  # as recorded, then digital silence
        recorded = turn.recording
        pcm = recorded.audio.astype("<i2").tobytes() + bytes(2 * int(tail * RATE))
        return Clip(pcm, RATE, *recorded.speech_span)
    words = speech(turn)
    lead = int(LEAD * RATE)
    signal = np.concatenate([np.zeros(lead, np.float32), words, np.zeros(int(tail * RATE))])
    if turn.snr is not None:
        signal = signal + _noise(signal.size, words, turn.snr, seed)
    pcm = (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()
    start, end = lead, lead + words.size - 1
    if not phone:
        return Clip(pcm, RATE, start, end)
    narrow = Audio(pcm, RATE).resampled(8000)
    return Clip(narrow.pcm, 8000, start // 2, end // 2)


_piper: Any = None


def _say(voice: str, text: str) -> np.ndarray:
    engine, speed = VOICES[voice]
    if engine == "piper":
        global _piper
        if _piper is None:
            from speech.tts import PiperTTS

            _piper = PiperTTS()
        audio = _piper.synthesize_now(text, steady=True)
    else:
        program = shutil.which("espeak-ng")
        if program is None:
            raise SystemExit("espeak-ng is needed for the corpus: apt-get install espeak-ng")
        with tempfile.NamedTemporaryFile(suffix=".wav") as out:
            subprocess.run(  # noqa: S603 - a fixed program with our own corpus text, no shell
                [program, "-v", engine, "-s", str(speed), "-w", out.name, text], check=True
            )
            audio = read_wav(Path(out.name).read_bytes())
    return _trimmed(audio.resampled(RATE).as_float())


def _trimmed(samples: np.ndarray) -> np.ndarray:
    """Cut the synthesizer's silence, so the first and last samples are speech."""
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    return samples[loud[0] : loud[-1] + 1] if loud.size else samples


def _noise(size: int, words: np.ndarray, snr: float, seed: int) -> np.ndarray:
    """Room noise at `snr` dB below the speech: pink noise (fans, traffic) with a
    murmur of other talk (the same voice, reversed and shifted, so no words)."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(size)
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
    pink = np.fft.irfft(spectrum, size)
    murmur = np.resize(words[::-1], size)
    noise = pink / (np.std(pink) or 1) + 0.3 * murmur / (np.std(murmur) or 1)
    speech_rms = float(np.sqrt(np.mean(words**2)))
    return (noise / np.std(noise) * speech_rms / 10 ** (snr / 20)).astype(np.float32)
