"""Which Whisper model, and which encoder window? Word error rate and time per
command for each packaged model, with Whisper's 30-second window and with our
shorter one, on dev-set commands spoken by every corpus voice (Piper and espeak-ng),
and on recordings of real people (`shared/speech/` beside the repository, never
copied into it): one-word commands and spoken coffee orders.

    uv run python -m eval.stt [--count 20] [--part real] [--half tune] [--orders 40] [--names]

`--names` hears each set without and with a made-up user's own names (speech/vocabulary.py).

Each real set is split once, by a hash of the file name, into a tuning half (look
at its failures) and a check half (only report it), so a change tuned on one half
is judged on voices it was not tuned on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jiwer
import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

from eval.corpus import RATE, VOICES, Turn, speech
from eval.devset import load_dev_set
from eval.stats import percentile
from intents.numbers import digits_for_words
from speech.answers import Expected
from speech.audio import Audio, from_float
from speech.models import WHISPER_MODELS
from speech.stt import WhisperSTT, repetitive
from speech.vocabulary import near_names

# (window, fitted): None is Whisper's own 30 s; fitted windows shrink to the utterance
WINDOWS: tuple[tuple[int | None, bool], ...] = ((None, False), (10, False), (10, True))
HALVES = ("tune", "check")
# the answers a confirmation or a "how many?" gets: they must not be lost
YES_NO = ("yes", "no")
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
NUMBERS = tuple((str(n), word) for n, word in enumerate(DIGITS))
ANSWERS = {*YES_NO, *(str(n) for n in range(10))}
# A user's own names (lists, projects, merchants), made up for this check, and commands
# that say them: told of the names, does recognition write them, and lose nothing else?
VOCABULARY = (
    "Kroger",
    "Tartine",
    "Siobhan's birthday",
    "Brightwater",
    "Zanzibar trip",
    "Okonkwo deck",
    "Hardware",
    "Groceries",
)
NAMED = (
    "Add milk to my Kroger list",
    "I spent 12 dollars at Tartine",
    "Add cake to the Siobhan's birthday list",
    "Log 40 dollars at Brightwater",
    "Add sunscreen to the Zanzibar trip list",
    "Add tiles to the Okonkwo deck project",
)


@dataclass
class RealVoices:
    """One half of each real set: (words said, audio) and (slot phrases, audio)."""

    half: str
    words: list[tuple[str, Audio]] = field(default_factory=list)
    orders: list[tuple[list[str], Audio]] = field(default_factory=list)


def normalized(text: str) -> str:
    """Compare words, not spelling: case, punctuation and "six"/"6" do not count."""
    # punctuation goes first: "Two." is 2, as "two" is
    text = re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("’", "'"))
    return re.sub(r"\s+", " ", digits_for_words(text)).strip()


def half_of(name: str) -> str:
    """A fixed split: the same file is always in the same half."""
    return HALVES[hashlib.sha256(name.encode()).digest()[0] % 2]


def real_voices_dir() -> Path | None:
    """`shared/speech/` beside the repository or one of its parents."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "speech" / "README.md").exists():
            return parent / "shared" / "speech"
    return None


def _manifest(folder: Path, half: str, most: int | None) -> list[tuple[dict, Audio]]:
    from faster_whisper import decode_audio  # FLAC through PyAV, Whisper's own reader

    rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    chosen = sorted(
        (r for r in rows if half_of(r["file"]) == half),
        key=lambda r: hashlib.sha256(r["file"].encode()).hexdigest(),
    )[:most]
    return [
        (row, Audio(from_float(decode_audio(str(folder / row["file"]), RATE)), RATE))
        for row in chosen
    ]


def load_real(root: Path, half: str, orders: int | None) -> RealVoices:
    voices = RealVoices(half)
    for row, audio in _manifest(root / "words", half, None):
        voices.words.append((row["text"], audio))
    for row, audio in _manifest(root / "coffee", half, orders):
        voices.orders.append((list(row["slots"].values()), audio))
    return voices


def looped(text: str) -> bool:
    """Said twice or stuck: a run of four words heard again, or a decoding loop."""
    words = normalized(text).split()
    runs = [" ".join(words[i : i + 4]) for i in range(len(words) - 3)]
    return repetitive(text) or len(set(runs)) < len(runs)


def slots_heard(slots: list[str], heard: str) -> int:
    said = f" {normalized(heard)} "
    return sum(f" {normalized(slot)} " in said for slot in slots)


def timed(
    stt: WhisperSTT,
    clips: list[Audio],
    label: str,
    expect: list[Sequence[Expected]] | None = None,
    vocabulary: Sequence[str] = (),
) -> tuple[list[str], list[float]]:
    heard, times = [], []
    for i, audio in enumerate(track(clips, description=label)):
        result = stt.transcribe_now(audio, expect[i] if expect else (), vocabulary)
        heard.append(result.text)
        times.append(result.seconds * 1000)
    return heard, times


def _ms(times: list[float]) -> list[str]:
    return [f"{statistics.median(times):.0f}", f"{percentile(times, 0.95):.0f}"]


def synthetic_clips(count: int, texts: Sequence[str] = ()) -> list[tuple[str, Audio]]:
    if not texts:
        _now, cases = load_dev_set()
        texts = [c["text"] for c in cases if c["intent"] != "out_of_scope"][::7][:count]
    return [
        (text, Audio((speech(Turn(text, voice=voice)) * 32767).astype("<i2").tobytes(), RATE))
        for text in track(texts, description="speaking")
        for voice in VOICES
    ]


def _key(window: tuple[int | None, bool]) -> str:
    return "fitted" if window[1] else str(window[0] or 30)


def measure(
    models: list[str],
    windows: list[tuple[int | None, bool]],
    synthetic: list[tuple[str, Audio]],
    real: list[RealVoices],
) -> list[Table]:
    tables = _tables(synthetic, real)
    for name in models:
        for window, fit in windows:
            stt = WhisperSTT(name, window=window, fit=fit)
            size = f"{window or 30} s" if not fit else f"fitted, ≤ {window} s"
            stt.transcribe_now(Audio(from_float(np.zeros(RATE, np.float32)), RATE))  # warm
            if synthetic:
                heard, times = timed(stt, [a for _, a in synthetic], f"{name}, {size}")
                error = _wer([t for t, _ in synthetic], heard)
                tables["synthetic"].add_row(name, size, f"{error:.1%}", *_ms(times))
            for voices in real:
                tables["words"].add_row(name, size, voices.half, *_words_row(stt, voices, size))
                if voices.orders:
                    row = _orders_row(stt, voices, size)
                    tables["orders"].add_row(name, size, voices.half, *row)
    return [table for table in tables.values() if table.row_count]


def told_names(
    models: list[str],
    windows: list[tuple[int | None, bool]],
    synthetic: list[tuple[str, Audio]],
    real: list[RealVoices],
) -> Table:
    """Each set heard without and with the user's names (VOCABULARY): the named
    commands should gain, everything else lose nothing."""
    table = Table(
        "model",
        "window",
        "set",
        "WER / slot words, without",
        "with the names",
        "heard again",
        "median ms, without",
        "with",
        title=f"Told the user's names ({', '.join(VOCABULARY)})",
    )
    named = synthetic_clips(0, NAMED)
    # (label, (said, audio)...) scored by WER, or ((slots, audio)...) by slot words heard
    sets: list[tuple[str, Sequence[tuple[str | list[str], Audio]]]] = [
        (f"named commands ({len(named)})", named),
        (f"synthetic commands ({len(synthetic)})", synthetic),
    ]
    for voices in real:
        sets.append((f"real words, {voices.half}", voices.words))
        sets.append((f"real orders, {voices.half}", voices.orders))
    for name in models:
        for window, fit in windows:
            stt = WhisperSTT(name, window=window, fit=fit)
            size = f"{window or 30} s" if not fit else f"fitted, ≤ {window} s"
            for label, clips in sets:
                if not clips:
                    continue
                row, again = [], 0
                said = [t for t, _ in clips]
                for vocabulary in ((), VOCABULARY):
                    run = f"{name}, {size}, {label}{', names' if vocabulary else ''}"
                    heard, times = timed(stt, [a for _, a in clips], run, vocabulary=vocabulary)
                    row.append((_score(said, heard), statistics.median(times)))
                    if not vocabulary:  # the turns that cost a second decode with them
                        again = sum(bool(near_names(h, VOCABULARY)) for h in heard)
                scores = [f"{score:.1%}" for score, _ in row]
                share = f"{again} of {len(clips)}"
                table.add_row(name, size, label, *scores, share, *(f"{ms:.0f}" for _, ms in row))
    return table


def _score(said: list[str | list[str]], heard: list[str]) -> float:
    """WER against transcripts; against slot lists, the share of slot words heard."""
    if all(isinstance(s, str) for s in said):
        return _wer([str(s) for s in said], heard)
    slots = [s for s in said if isinstance(s, list)]
    found = sum(slots_heard(s, h) for s, h in zip(slots, heard, strict=True))
    return found / sum(len(s) for s in slots)


def _wer(said: list[str], heard: list[str]) -> float:
    return jiwer.wer([normalized(t) for t in said], [normalized(h) for h in heard])


def _words_row(stt: WhisperSTT, voices: RealVoices, size: str) -> list[str]:
    label = f"{stt.name}, {size}, words ({voices.half})"
    heard, times = timed(stt, [a for _, a in voices.words], label)
    said = [normalized(t) for t, _ in voices.words]
    answers = [normalized(h) == s for s, h in zip(said, heard, strict=True) if s in ANSWERS]
    error = _wer(said, heard)
    return [f"{error:.1%}", _share(answers), *_hinted(stt, voices, label), *_ms(times)]


def _hinted(stt: WhisperSTT, voices: RealVoices, label: str) -> list[str]:
    """Heard as the answer to a question: yes/no to a confirmation, a digit to a
    number; and how often another word is taken for "yes" or "no" by it."""
    if stt.window is None:
        return ["–", "–"]  # Whisper's own 30 s decode takes no hint
    said = [normalized(t) for t, _ in voices.words]
    expect = [YES_NO if s not in ANSWERS or s in YES_NO else NUMBERS for s in said]
    heard, _ = timed(stt, [a for _, a in voices.words], f"{label}, answers expected", expect)
    hits = [normalized(h) == s for s, h in zip(said, heard, strict=True) if s in ANSWERS]
    taken = [normalized(h) in YES_NO for s, h in zip(said, heard, strict=True) if s not in ANSWERS]
    return [_share(hits), _share(taken)]


def _share(hits: list[bool]) -> str:
    return f"{sum(hits) / len(hits):.0%} of {len(hits)}"


def _orders_row(stt: WhisperSTT, voices: RealVoices, size: str) -> list[str]:
    label = f"{stt.name}, {size}, orders ({voices.half})"
    heard, times = timed(stt, [a for _, a in voices.orders], label)
    slots = [s for s, _ in voices.orders]
    found = sum(slots_heard(s, h) for s, h in zip(slots, heard, strict=True))
    loops = sum(looped(h) for h in heard)
    recall = found / sum(len(s) for s in slots)
    return [f"{recall:.1%}", f"{loops / len(heard):.1%}", *_ms(times)]


def _tables(synthetic: list[tuple[str, Audio]], real: list[RealVoices]) -> dict[str, Table]:
    counts = ", ".join(f"{v.half} {len(v.words)}" for v in real)
    orders = ", ".join(f"{v.half} {len(v.orders)}" for v in real)
    head = ("model", "window")
    return {
        "synthetic": Table(
            *head,
            "WER",
            "median ms",
            "p95 ms",
            title=f"Whisper on {len(synthetic)} synthetic spoken commands "
            f"({len(synthetic) // len(VOICES)} × {len(VOICES)} voices)",
        ),
        "words": Table(
            *head,
            "half",
            "WER",
            "yes/no/digits right",
            "… expected",
            "others taken for yes/no",
            "median ms",
            "p95 ms",
            title=f"Real voices: one-word commands ({counts})",
        ),
        "orders": Table(
            *head,
            "half",
            "slot words heard",
            "repeats/loops",
            "median ms",
            "p95 ms",
            title=f"Real voices: spoken coffee orders, 5–15 s ({orders})",
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20, help="synthetic commands per voice")
    parser.add_argument("--model", choices=WHISPER_MODELS, help="only this model")
    parser.add_argument("--part", choices=("all", "synthetic", "real"), default="all")
    parser.add_argument("--half", choices=(*HALVES, "both"), default="both")
    parser.add_argument("--orders", type=int, default=40, help="coffee orders per half")
    parser.add_argument("--voices", type=Path, help="the real voices (default: shared/speech/)")
    parser.add_argument("--window", choices=("30", "10", "fitted"), help="only this window")
    parser.add_argument(
        "--names", action="store_true", help="each set without and with the user's names"
    )
    args = parser.parse_args()
    synthetic = synthetic_clips(args.count) if args.part != "real" else []
    real: list[RealVoices] = []
    root = args.voices or real_voices_dir()
    if args.part != "synthetic":
        if root is None:
            Console().print("[yellow]No shared/speech/ beside the repository: real voices skipped")
        else:
            halves = HALVES if args.half == "both" else (args.half,)
            real = [load_real(root, half, args.orders or None) for half in halves]
    models = [args.model] if args.model else list(WHISPER_MODELS)
    windows = [w for w in WINDOWS if args.window in (None, _key(w))]
    tables = (
        [told_names(models, windows, synthetic, real)]
        if args.names
        else measure(models, windows, synthetic, real)
    )
    for table in tables:
        Console(width=150).print(table)


if __name__ == "__main__":
    main()
