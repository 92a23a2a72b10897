"""Figures from a harness run: summary per configuration, the Markdown table with
ratios against the baseline, PNG plots, and two runs side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jiwer
import numpy as np

from eval.client import TurnResult
from eval.corpus import Script
from eval.devset import _matches, load_dev_set
from eval.stt import normalized
from intents.model import UserContext
from intents.rules import RuleParser

STAGES = ("endpoint_wait", "stt_wait", "intent", "action", "tts_first_chunk", "transport")
_parser: RuleParser | None = None


def percentile(values: list[float], share: float) -> float | None:
    return float(np.percentile(values, share * 100)) if values else None


def summarize(run: dict[str, Any], scripts: list[Script]) -> dict[str, Any]:
    turns: list[TurnResult] = run["turns"]
    expected = [turn for script in scripts for turn in script.turns]
    latencies = [t.latency for t in turns if t.latency is not None]
    stages: dict[str, float | None] = {}
    for stage in STAGES:
        stages[stage] = percentile([t.stages[stage] for t in turns if stage in t.stages], 0.5)
    barge = [t.barge_in_stop for t in turns if t.barge_in_stop is not None]
    paused = [t for t, e in zip(turns, expected, strict=True) if e.pause]
    return {
        "turns": len(turns),
        "answered": len(latencies),
        "latency_ms": {f"p{q}": percentile(latencies, q / 100) for q in (50, 90, 95, 99)},
        "stages_p50_ms": stages,
        "barge_in_stop_ms": {"p50": percentile(barge, 0.5), "max": max(barge, default=None)},
        "false_cut_off_rate": sum(t.cut_off for t in paused) / len(paused) if paused else None,
        "paused_turns": len(paused),
        **accuracy(turns, expected),
        "effects": f"{sum(run['effects'].values())}/{len(run['effects'])}",
        "cold_start_s": run["cold_start_s"],
        "memory_mb": run["memory_mb"],
    }


def accuracy(turns: list[TurnResult], expected: list[Any]) -> dict[str, Any]:
    """WER of the transcripts; intent and slots from the transcripts and, for
    comparison, from the text itself (the local grammar, at the dev set's "now")."""
    global _parser
    _parser = _parser or RuleParser()
    now, _cases = load_dev_set()
    context = UserContext(now=now)
    refs = [normalized(e.text) for e in expected]
    hyps = [normalized(t.heard or "") for t in turns]
    scores: dict[str, list[int]] = {"audio": [0, 0, 0, 0], "text": [0, 0, 0, 0]}
    for turn, want in zip(turns, expected, strict=True):
        if want.intent is None:
            continue
        for source, said in (("audio", turn.heard or ""), ("text", want.text)):
            found = _parser.parse(said, context)
            name = found.action if found else "out_of_scope"
            score = scores[source]
            score[0] += name == want.intent
            score[1] += 1
            if want.slots:
                score[3] += 1
                score[2] += name == want.intent and _matches(
                    want.slots, found.slots if found else {}
                )
    return {
        "wer": jiwer.wer(refs, hyps) if refs else None,
        "intent_accuracy": _share(scores["audio"][0], scores["audio"][1]),
        "slot_exactness": _share(scores["audio"][2], scores["audio"][3]),
        "text_intent_accuracy": _share(scores["text"][0], scores["text"][1]),
        "text_slot_exactness": _share(scores["text"][2], scores["text"][3]),
    }


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


# --- presenting -----------------------------------------------------------------

ROWS: list[tuple[str, str, str]] = [  # label, path into the summary, unit
    ("latency p50", "latency_ms.p50", "ms"),
    ("latency p90", "latency_ms.p90", "ms"),
    ("latency p95", "latency_ms.p95", "ms"),
    ("latency p99", "latency_ms.p99", "ms"),
    *[(f"stage {s} p50", f"stages_p50_ms.{s}", "ms") for s in STAGES],
    ("barge-in stop p50", "barge_in_stop_ms.p50", "ms"),
    ("false cut-off rate", "false_cut_off_rate", "%"),
    ("word error rate", "wer", "%"),
    ("intent accuracy (audio)", "intent_accuracy", "%"),
    ("slot exactness (audio)", "slot_exactness", "%"),
    ("intent accuracy (text)", "text_intent_accuracy", "%"),
    ("slot exactness (text)", "text_slot_exactness", "%"),
    ("script effects", "effects", ""),
    ("cold start to ready", "cold_start_s", "s"),
    ("peak memory", "memory_mb", "MB"),
]


def _get(summary: dict[str, Any], path: str) -> Any:
    value: Any = summary
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _show(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if unit == "%":
        return f"{value:.1%}"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:.0f} {unit}"


def _ratio(ours: Any, theirs: Any) -> str:
    if not isinstance(ours, int | float) or not isinstance(theirs, int | float) or not theirs:
        return "–"
    return f"{ours / theirs:.2f}×"


def _table(columns: list[tuple[str, dict[str, Any]]], title: str) -> str:
    names = [name for name, _ in columns]
    lines = [f"### {title}", "", "| metric | " + " | ".join(names) + " | ratio |"]
    lines.append("|---" * (len(names) + 2) + "|")
    for label, path, unit in ROWS:
        values = [_get(summary, path) for _, summary in columns]
        ratio = _ratio(values[0], values[1]) if len(values) == 2 else "–"
        lines.append(f"| {label} | " + " | ".join(_show(v, unit) for v in values) + f" | {ratio} |")
    return "\n".join(lines) + "\n"


def markdown(result: dict[str, Any]) -> str:
    configs = result["configs"]
    turns = next(iter(configs.values()))["turns"] if configs else 0
    title = f"Voice-to-voice, {result['corpus']} corpus ({turns} turns), {result['when']}"
    return _table(list(configs.items()), title)


def compare(first: dict[str, Any], second: dict[str, Any], a: str, b: str) -> str:
    parts = []
    for name in first["configs"]:
        if name in second["configs"]:
            columns = [(a, first["configs"][name]), (b, second["configs"][name])]
            parts.append(_table(columns, f"{name}: {a} vs {b}"))
    return "\n".join(parts)


def plots(result: dict[str, Any], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    for name, turns in result["turns"].items():
        values = sorted(t["latency"] for t in turns if t["latency"] is not None)
        if values:
            axes.step(values, np.arange(1, len(values) + 1) / len(values), label=name, where="post")
    axes.axvline(500, color="grey", linestyle=":", label="500 ms budget")
    axes.set_xlabel("last speech sample sent → first reply audio byte (ms)")
    axes.set_ylabel("share of turns")
    axes.set_title("Voice-to-voice latency")
    axes.legend()
    figure.tight_layout()
    figure.savefig(folder / "latency_cdf.png", dpi=120)
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(7, 3))
    for row, summary in enumerate(result["configs"].values()):
        left = 0.0
        for stage in STAGES:
            width = summary["stages_p50_ms"].get(stage) or 0.0
            axes.barh(row, width, left=left, label=stage if row == 0 else None)
            left += width
    axes.set_yticks(range(len(result["configs"])), list(result["configs"]))
    axes.set_xlabel("median milliseconds per stage (our pipeline reports its stages)")
    axes.legend(fontsize="small", ncols=3)
    figure.tight_layout()
    figure.savefig(folder / "stages.png", dpi=120)
    plt.close(figure)
