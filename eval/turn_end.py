"""Can an audio end-of-turn model end turns sooner here? Smart Turn v3 (the ONNX model
shipped in the pipecat wheel, run by pipecat's own `LocalSmartTurnAnalyzerV3`) scored
where a turn really ends and where the speaker only pauses mid-sentence, beside the
grammar's verdict on the words said so far, with its CPU cost per call.

    uv run --frozen python -m eval.turn_end [--every N] [--out eval-results]

Where it is scored (16 kHz, the turn's audio up to the pause plus the 160 ms of
silence the pipeline hands on, as `Endpointer.turn_audio` does):
- synthetic ends: every Nth command of the spoken corpus, as the harness says it;
- synthetic pauses: the corpus's mid-sentence pauses, up to the pause (all of them);
- real ends and pauses: the real spoken orders (../shared/speech), up to each
  silence of 224 ms or more inside the speech (Silero VAD), and up to their end;
- real words: the one-word commands, which are whole turns.

A rule that ends a turn on a pause is only usable if it calls no mid-sentence pause
complete: each pause it calls complete is a user cut off.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from eval.corpus import RATE, build, speech
from eval.real_voices import load_orders, load_words, speech_dir

PAD = np.zeros(int(0.16 * RATE), np.float32)  # the pipeline's pad after the last speech
PAUSE_FRAMES = 7  # 224 ms of Silero frames: a pause the endpointer acts on


@dataclass
class Scored:
    kind: str  # "synthetic end", "synthetic pause", "real end", "real pause", "real word"
    text: str
    probability: float  # Smart Turn's "the turn is complete"
    grammar: str  # "whole", "unfinished" (dangling word or missing slot), "unknown", "-"
    cpu_ms: float
    wall_ms: float


class SmartTurn:
    def __init__(self) -> None:
        from speech.logs import quiet_pipecat

        quiet_pipecat()
        from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

        self.model = LocalSmartTurnAnalyzerV3(sample_rate=RATE)

    def score(self, audio: np.ndarray) -> tuple[float, float, float]:
        """Probability of "complete", CPU ms and wall ms of one call. The analyzer's
        scoring step is called directly: its public path runs its own silence timer
        around it, which the clip-by-clip scoring here does not want."""
        cpu, wall = time.thread_time(), time.perf_counter()
        found = self.model._predict_endpoint(np.concatenate([audio, PAD]))
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        return float(found["probability"]), cpu * 1000, wall * 1000


class Grammar:
    """The voice responder's own test of "a whole request", on the words themselves."""

    def __init__(self) -> None:
        from intents.model import UserContext
        from intents.rules import RuleParser

        self.rules = RuleParser()
        self.context = UserContext(now=datetime.now(UTC))

    def verdict(self, text: str) -> str:
        from agent.dialogue.voice import DANGLING

        words = text.lower().strip(" .,!?").split()
        if not words or words[-1] in DANGLING:
            return "unfinished"
        found = self.rules.parse(text, self.context)
        if found is None:
            return "unknown"
        return "unfinished" if found.missing else "whole"


def first_half(turn_text: str, samples: np.ndarray) -> tuple[str, np.ndarray]:
    """The words and audio before a corpus turn's mid-sentence pause (the longest
    quiet run inside it: the corpus puts 450 ms of silence there)."""
    words = turn_text.split()
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    gap = int(np.argmax(np.diff(loud)))
    return " ".join(words[: len(words) // 2]), samples[: loud[gap] + 1]


def real_pauses(samples: np.ndarray) -> tuple[list[int], int]:
    """Sample offsets where a real speaker goes quiet for a pause inside the speech,
    and where the speech ends (Silero VAD, as the pipeline hears it)."""
    from speech.endpoint import FRAME, StreamingVAD

    vad = StreamingVAD()
    voiced = [
        vad.probability(samples[i : i + FRAME]) >= 0.5
        for i in range(0, samples.size - FRAME, FRAME)
    ]
    speech_frames = [i for i, v in enumerate(voiced) if v]
    if not speech_frames:
        return [], 0
    first, last = speech_frames[0], speech_frames[-1]
    pauses, i = [], first
    while i < last:
        if voiced[i]:
            i += 1
            continue
        j = i
        while not voiced[j]:
            j += 1
        if j - i >= PAUSE_FRAMES:
            pauses.append(i * FRAME)
        i = j
    return pauses, (last + 1) * FRAME


def measure(every: int) -> list[Scored]:
    model, grammar = SmartTurn(), Grammar()
    scored: list[Scored] = []

    def add(kind: str, text: str, audio: np.ndarray, verdict: str) -> None:
        probability, cpu, wall = model.score(audio)
        scored.append(Scored(kind, text, probability, verdict, cpu, wall))

    turns = [t for s in build(full=True) for t in s.turns if t.recording is None]
    for i, turn in enumerate(turns):
        samples = speech(turn)
        if turn.pause:
            half, before = first_half(turn.text, samples)
            add("synthetic pause", half, before, grammar.verdict(half))
        if i % every == 0:
            add("synthetic end", turn.text, samples, grammar.verdict(turn.text))
    if speech_dir() is not None:
        for i, order in enumerate(load_orders()):  # every order's pauses: they are rare
            samples = order.audio.astype(np.float32) / 32768
            pauses, end = real_pauses(samples)
            for at in pauses:
                add("real pause", order.name, samples[:at], "-")
            if end and i % every == 0:
                add("real end", order.name, samples[:end], "-")
        for word in load_words()[::every]:
            samples = word.audio.astype(np.float32) / 32768
            add("real word", word.reference, samples[: word.speech_span[1] + 1], "-")
    return scored


# Ways to end a turn on a short pause: name → (needs the words?, does it end here?).
# The real recordings have no words to judge (the orders are not requests, the
# single words answer nothing): only the audio rules are scored on them.
RULES: dict[str, tuple[bool, Callable[[Scored], bool]]] = {
    "grammar whole": (True, lambda s: s.grammar == "whole"),
    "Smart Turn ≥ 0.5": (False, lambda s: s.probability > 0.5),
    "grammar whole, or Smart Turn ≥ 0.5 where the grammar cannot tell": (
        False,
        lambda s: s.grammar == "whole" or (s.grammar in ("unknown", "-") and s.probability > 0.5),
    ),
}


def summarize(scored: list[Scored]) -> dict[str, Any]:
    cpu = [s.cpu_ms for s in scored]
    wall = [s.wall_ms for s in scored]
    kinds = sorted({s.kind for s in scored})
    rules: dict[str, dict[str, str]] = {}
    for name, (needs_words, ends_here) in RULES.items():
        rules[name] = {}
        for kind in kinds:
            group = [s for s in scored if s.kind == kind]
            if needs_words and any(s.grammar == "-" for s in group):
                continue
            rules[name][kind] = f"{sum(map(ends_here, group))}/{len(group)}"
    return {
        "calls": len(scored),
        "cpu_ms_p50": float(np.median(cpu)),
        "cpu_ms_p95": float(np.percentile(cpu, 95)),
        "wall_ms_p50": float(np.median(wall)),
        "wall_ms_p95": float(np.percentile(wall, 95)),
        "ends_here": rules,
    }


def markdown(summary: dict[str, Any]) -> str:
    kinds = sorted({k for row in summary["ends_here"].values() for k in row})
    lines = [
        f"Smart Turn v3: {summary['calls']} calls, CPU {summary['cpu_ms_p50']:.0f} ms per call"
        f" (p95 {summary['cpu_ms_p95']:.0f}), wall {summary['wall_ms_p50']:.0f} ms"
        f" (p95 {summary['wall_ms_p95']:.0f})",
        "",
        "| ends the turn on the pause | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for name, row in summary["ends_here"].items():
        lines.append(f"| {name} | " + " | ".join(row.get(k, "–") for k in kinds) + " |")
    lines.append("")
    lines.append(
        'A "pause" column counts users cut off mid-sentence; an "end" column, turns ended early.'
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.turn_end", description=__doc__)
    parser.add_argument("--every", type=int, default=4, help="score every Nth end (1: all)")
    parser.add_argument("--out", type=Path, default=Path("eval-results"))
    args = parser.parse_args(argv)
    scored = measure(max(1, args.every))
    summary = summarize(scored)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [vars(s) for s in scored]
    (args.out / "turn_end.json").write_text(
        json.dumps({"summary": summary, "scored": rows}, indent=2)
    )
    table = markdown(summary)
    (args.out / "turn_end.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
