"""Recordings of real people, read where they lie (``../shared/speech/`` beside the
checkout, or ``LIFEOS_SPEECH_DIR``) and never copied into the repository:

- ``words/``: one-word commands ("yes", "no", "stop", digits...) by several speakers;
  the reference is the word.
- ``coffee/``: spoken coffee orders with their slots and no transcript; the reference
  is the slot words, which a good hearing contains.

Each recording goes to the tuning or the check half by a hash of its file name, as the
text sets are split (eval.sets): the halves never change as recordings are added.

    from eval.real_voices import load_words, load_orders
    [(r.audio, r.reference) for r in load_words(half="check")]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from eval.sets import half_of

RATE = 16_000
WORDS, ORDERS = "words", "coffee"  # the folders, which name the parts


@dataclass(frozen=True)
class Recording:
    path: Path
    kind: str  # WORDS or ORDERS
    reference: str  # the word said, or an order's slot words
    half: str  # eval.sets.TUNE or CHECK
    slots: dict[str, str] = field(default_factory=dict)  # an order's slots, as spoken

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def audio(self) -> np.ndarray:
        """The recording as 16 kHz mono 16-bit samples (decoded on first use)."""
        from faster_whisper import decode_audio  # PyAV underneath: it reads FLAC

        samples = decode_audio(str(self.path), sampling_rate=RATE)
        return np.clip(np.round(samples * 32768), -32768, 32767).astype(np.int16)

    @cached_property
    def speech_span(self) -> tuple[int, int]:
        """First and last sample of speech, as Silero VAD finds it (the recordings
        have room sound around the words, and no timings of their own)."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        samples = self.audio.astype(np.float32) / 32768
        found = get_speech_timestamps(samples, VadOptions(speech_pad_ms=0))
        if not found:  # too short or quiet for the VAD: the whole recording counts
            return 0, samples.size - 1
        return found[0]["start"], min(found[-1]["end"], samples.size) - 1


def speech_dir() -> Path | None:
    """``LIFEOS_SPEECH_DIR`` if set, else the shared speech folder beside the checkout."""
    if os.environ.get("LIFEOS_SPEECH_DIR"):
        folder = Path(os.environ["LIFEOS_SPEECH_DIR"])
        return folder if folder.is_dir() else None
    root = Path(__file__).resolve().parent.parent
    for parent in (root.parent, root.parent.parent):
        candidate = parent / "shared" / "speech"
        if (candidate / WORDS / "manifest.jsonl").exists():
            return candidate
    return None


def load_words(folder: Path | None = None, half: str | None = None) -> list[Recording]:
    """The one-word commands, in the manifest's order (grouped by word)."""
    found = [
        Recording(path, WORDS, row["text"], half_of(f"speech:{path.name}"))
        for path, row in _manifest(folder, WORDS)
    ]
    return [r for r in found if half is None or r.half == half]


def load_orders(folder: Path | None = None, half: str | None = None) -> list[Recording]:
    """The spoken coffee orders; the reference is every slot's words, in slot order."""
    found = [
        Recording(
            path,
            ORDERS,
            " ".join(row["slots"].values()),
            half_of(f"speech:{path.name}"),
            dict(row["slots"]),
        )
        for path, row in _manifest(folder, ORDERS)
    ]
    return [r for r in found if half is None or r.half == half]


def _manifest(folder: Path | None, kind: str) -> list[tuple[Path, dict[str, Any]]]:
    base = folder or speech_dir()
    if base is None:
        raise FileNotFoundError(
            "the real-voice recordings are not there: put them in ../shared/speech "
            "beside the checkout or set LIFEOS_SPEECH_DIR"
        )
    lines = (base / kind / "manifest.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [(base / kind / row["file"], row) for row in rows]


# --- scoring (on text normalized as eval.stt.normalized does) ---------------------


def words_heard(reference: str, heard: str) -> tuple[int, int]:
    """How many of the reference's words the hearing contains, of how many: each
    heard word counts once, so "large" heard once does not cover "large large"."""
    left = heard.split()
    found = 0
    for word in reference.split():
        if word in left:
            left.remove(word)
            found += 1
    return found, len(reference.split())


def repeats(heard: str) -> bool:
    """The hearing repeats itself, as a decoder looping or saying the clip twice does
    and people rarely do: a run of two or more words twice in a row ("a large latte a
    large latte"), one word three times ("no no no"), or a restart of the whole, cut
    short ("a large latte with milk a large latte")."""
    words = heard.split()
    for size in range(1, len(words) // 2 + 1):
        times = 2 if size > 1 else 3
        for start in range(len(words) - times * size + 1):
            span = words[start : start + size]
            if all(words[start + k * size : start + (k + 1) * size] == span for k in range(times)):
                return True
    return any(
        words[cut:] == words[: len(words) - cut]
        for cut in range((len(words) + 1) // 2, len(words) - 2)
    )
