"""Which Whisper model, and which encoder window? Word error rate and time per
command for each packaged model, with Whisper's 30-second window and with our
shorter one, on dev-set commands spoken by every corpus voice (Piper and espeak-ng).

    uv run python -m eval.stt [--count 20]
"""

from __future__ import annotations

import argparse
import re
import statistics

import jiwer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from eval.bench_text import percentile
from eval.corpus import RATE, VOICES, Turn, speech
from eval.devset import load_dev_set
from intents.numbers import digits_for_words
from speech.audio import Audio
from speech.models import WHISPER_MODELS
from speech.stt import WhisperSTT

# (window, fitted): None is Whisper's own 30 s; fitted windows shrink to the utterance
WINDOWS: tuple[tuple[int | None, bool], ...] = ((None, False), (10, False), (10, True))


def normalized(text: str) -> str:
    """Compare words, not spelling: case, punctuation and "six"/"6" do not count."""
    text = digits_for_words(text.lower().replace("’", "'"))
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9' ]", " ", text)).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20, help="commands per voice")
    parser.add_argument("--model", choices=WHISPER_MODELS, help="only this model")
    args = parser.parse_args()
    _now, cases = load_dev_set()
    texts = [c["text"] for c in cases if c["intent"] != "out_of_scope"][::7][: args.count]
    clips = [
        (text, Audio((speech(Turn(text, voice=voice)) * 32767).astype("<i2").tobytes(), RATE))
        for text in track(texts, description="speaking")
        for voice in VOICES
    ]
    table = Table(
        "model",
        "window",
        "WER",
        "median ms",
        "p95 ms",
        title=f"Whisper on {len(clips)} spoken commands ({len(texts)} × {len(VOICES)} voices)",
    )
    for name in [args.model] if args.model else WHISPER_MODELS:
        for window, fit in WINDOWS:
            stt = WhisperSTT(name, window=window, fit=fit)
            stt.transcribe_now(clips[0][1])  # warm
            heard, times = [], []
            size = f"{window or 30} s" if not fit else f"fitted, ≤ {window} s"
            for _text, audio in track(clips, description=f"{name}, {size}"):
                result = stt.transcribe_now(audio)
                heard.append(result.text)
                times.append(result.seconds * 1000)
            error = jiwer.wer([normalized(t) for t, _ in clips], [normalized(h) for h in heard])
            table.add_row(
                name,
                size,
                f"{error:.1%}",
                f"{statistics.median(times):.0f}",
                f"{percentile(times, 0.95):.0f}",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
