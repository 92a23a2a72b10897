"""Which Whisper model should be the default? Word error rate and time per command
for each packaged model, on commands from the intent dev set spoken by Piper.

    uv run python -m eval.stt [--count 40]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import jiwer
from rich.console import Console
from rich.table import Table

from eval.intents import load_dev_set
from intents.numbers import digits_for_words
from speech.models import WHISPER_MODELS
from speech.stt import WhisperSTT
from speech.tts import PiperTTS


def normalized(text: str) -> str:
    """Compare words, not spelling: case, punctuation and "six"/"6" do not count."""
    text = digits_for_words(text.lower().replace("’", "'"))
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9' ]", " ", text)).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=40)
    args = parser.parse_args()
    _now, cases = load_dev_set()
    texts = [c["text"] for c in cases if c["intent"] != "out_of_scope"][::3][: args.count]
    piper = PiperTTS()
    audio = [piper.synthesize_now(text, steady=True) for text in texts]
    table = Table(
        "model", "WER", "median ms", "p95 ms", title=f"Whisper on {len(texts)} spoken commands"
    )
    for name in WHISPER_MODELS:
        stt = WhisperSTT(name)
        stt.transcribe_now(audio[0])  # warm
        heard, times = [], []
        for clip in audio:
            started = time.perf_counter()
            heard.append(stt.transcribe_now(clip).text)
            times.append((time.perf_counter() - started) * 1000)
        error = jiwer.wer([normalized(t) for t in texts], [normalized(h) for h in heard])
        ordered = sorted(times)
        table.add_row(
            name,
            f"{error:.1%}",
            f"{statistics.median(times):.0f}",
            f"{ordered[round(0.95 * (len(ordered) - 1))]:.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
