"""Figures from a harness run: summary per configuration, the Markdown table with
ours against each baseline, PNG plots, and two runs side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jiwer
import numpy as np

from eval import stats
from eval.client import TurnResult
from eval.corpus import Script
from eval.devset import _matches, load_dev_set
from eval.real_voices import ORDERS, WORDS, repeats, words_heard
from eval.stt import normalized
from intents.model import UserContext
from intents.rules import RuleParser

STAGES = ("endpoint_wait", "stt_wait", "intent", "action", "tts_first_chunk", "transport")
_parser: RuleParser | None = None


def percentile(values: list[float], share: float) -> float | None:
    return stats.percentile(values, share) if values else None


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
        "real_voices": real_voices(turns, expected),
        "effects": f"{sum(run['effects'].values())}/{len(run['effects'])}",
        "cold_start_s": run["cold_start_s"],
        "memory_mb": run["memory_mb"],
    }


def accuracy(turns: list[TurnResult], expected: list[Any]) -> dict[str, Any]:
    """WER of the synthetic voices' transcripts; intent and slots from the transcripts
    and, for comparison, from the text itself (the local grammar, at the dev set's
    "now"). Real voices are scored apart (`real_voices`)."""
    global _parser
    _parser = _parser or RuleParser()
    now, _cases = load_dev_set()
    context = UserContext(now=now)
    voiced = [(t, e) for t, e in zip(turns, expected, strict=True) if e.recording is None]
    refs = [normalized(e.text) for _t, e in voiced]
    hyps = [normalized(t.heard or "") for t, _e in voiced]
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


def real_voices(turns: list[TurnResult], expected: list[Any]) -> dict[str, Any]:
    """Real people's one-word commands: WER, and the share heard exactly. Their spoken
    orders (no transcript): the share of slot words heard, of orders with every slot
    word heard, and of hearings that repeat themselves. Orders are not requests the
    product serves, so no intent is scored on them."""
    pairs = [(t, e.recording) for t, e in zip(turns, expected, strict=True) if e.recording]
    words = [
        (normalized(r.reference), normalized(t.heard or "")) for t, r in pairs if r.kind == WORDS
    ]
    orders = [
        (normalized(r.reference), normalized(t.heard or "")) for t, r in pairs if r.kind == ORDERS
    ]
    heard = [words_heard(ref, hyp) for ref, hyp in orders]
    latencies = [t.latency for t, _r in pairs if t.latency is not None]
    return {
        "words": len(words),
        "orders": len(orders),
        "latency_p50_ms": percentile(latencies, 0.5),
        "words_wer": jiwer.wer([r for r, _ in words], [h for _, h in words]) if words else None,
        "words_exact": _share(sum(r == h for r, h in words), len(words)),
        "slot_recall": _share(sum(f for f, _ in heard), sum(n for _, n in heard)),
        "orders_whole": _share(sum(f == n for f, n in heard), len(heard)),
        "repeat_rate": _share(sum(repeats(h) for _, h in orders), len(orders)),
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
    ("word error rate (synthetic)", "wer", "%"),
    ("real voices: latency p50", "real_voices.latency_p50_ms", "ms"),
    ("real words: word error rate", "real_voices.words_wer", "%"),
    ("real words: heard exactly", "real_voices.words_exact", "%"),
    ("real orders: slot words heard", "real_voices.slot_recall", "%"),
    ("real orders: every slot word heard", "real_voices.orders_whole", "%"),
    ("real orders: hearing repeats itself", "real_voices.repeat_rate", "%"),
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


def _ratio(ours: Any, theirs: Any) -> float | None:
    if not isinstance(ours, int | float) or not isinstance(theirs, int | float) or not theirs:
        return None
    return ours / theirs


def ratios(configs: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """The first configuration (ours) divided by each other one, metric by metric."""
    names = list(configs)
    if len(names) < 2:
        return {}
    first = configs[names[0]]
    return {
        other: {path: _ratio(_get(first, path), _get(configs[other], path)) for _, path, _u in ROWS}
        for other in names[1:]
    }


def _table(columns: list[tuple[str, dict[str, Any]]], title: str) -> str:
    """A column per configuration, then the first one's ratio to each of the others."""
    names = [name for name, _ in columns]
    shared = ratios(dict(columns))
    heads = names + [f"{names[0]} ÷ {other}" for other in shared]
    lines = [f"### {title}", "", "| metric | " + " | ".join(heads) + " |"]
    lines.append("|---" * (len(heads) + 1) + "|")
    for label, path, unit in ROWS:
        cells = [_show(_get(summary, path), unit) for _, summary in columns]
        for by_path in shared.values():
            ratio = by_path[path]
            cells.append("–" if ratio is None else f"{ratio:.2f}×")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(result: dict[str, Any]) -> str:
    configs = result["configs"]
    parts = []
    if configs:
        turns = next(iter(configs.values()))["turns"]
        title = f"Voice-to-voice, {result['corpus']} corpus ({turns} turns), {result['when']}"
        note = result.get("real_voices")
        parts.append(_table(list(configs.items()), title))
        parts.append(f"\nReal voices: {note}\n" if note else "")
    if result.get("phone"):
        parts.append("\n" + phone_markdown(result["phone"]))
    return "".join(parts)


def compare(first: dict[str, Any], second: dict[str, Any], a: str, b: str) -> str:
    """Each configuration in run A against itself in run B, then how ours compared
    with each baseline in either run."""
    parts = []
    for name in first["configs"]:
        if name in second["configs"]:
            columns = [(a, first["configs"][name]), (b, second["configs"][name])]
            parts.append(_table(columns, f"{name}: {a} vs {b}"))
    parts.append(_ratio_table([(a, first), (b, second)]))
    return "\n".join(parts)


def _ratio_table(runs: list[tuple[str, dict[str, Any]]]) -> str:
    columns = [
        (f"{run}: {next(iter(result['configs']))} ÷ {other}", by_path)
        for run, result in runs
        for other, by_path in ratios(result["configs"]).items()
    ]
    lines = ["### each run's first configuration ÷ each baseline", ""]
    lines.append("| metric | " + " | ".join(name for name, _ in columns) + " |")
    lines.append("|---" * (len(columns) + 1) + "|")
    for label, path, _unit in ROWS:
        cells = ["–" if by[path] is None else f"{by[path]:.2f}×" for _, by in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --- the phone path: ours and the stock pipecat Twilio bots ------------------------

PHONE_ROWS: list[tuple[str, str, str]] = [
    ("turns answered", "answered", ""),
    ("latency p50", "latency_ms.p50", "ms"),
    ("latency p95", "latency_ms.p95", "ms"),
    ("latency p99", "latency_ms.p99", "ms"),
    ("word error rate (heard)", "wer", "%"),
]


def summarize_phone(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per path: turns answered, latency percentiles, WER of what it heard (a turn
    heard as nothing counts every word as missed); the first path's figures divided
    by each other one's."""
    paths: dict[str, dict[str, Any]] = {}
    for name, turns in rows.items():
        latencies = [t["latency_ms"] for t in turns if t["latency_ms"] is not None]
        refs = [normalized(t["said"]) for t in turns]
        hyps = [normalized(t["heard"] or "") for t in turns]
        paths[name] = {
            "turns": len(turns),
            "answered": len(latencies),
            "latency_ms": {f"p{q}": percentile(latencies, q / 100) for q in (50, 95, 99)},
            "wer": jiwer.wer(refs, hyps) if refs else None,
        }
    first, *others = list(paths)
    return {
        "paths": paths,
        "ratios": {
            other: {
                path: _ratio(_get(paths[first], path), _get(paths[other], path))
                for _label, path, unit in PHONE_ROWS
                if unit
            }
            for other in others
        },
    }


def phone_markdown(phone: dict[str, Any]) -> str:
    paths, ratios_to = phone["paths"], phone["ratios"]
    names = list(paths)
    heads = names + [f"{names[0]} ÷ {other}" for other in ratios_to]
    title = f"### Phone: Twilio Media Streams, {phone['clips']} clips at 8 kHz, alternating"
    lines = [title, "", "| metric | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for label, path, unit in PHONE_ROWS:
        cells = [_show(_get(summary, path), unit) for summary in paths.values()]
        if path == "answered":
            cells = [f"{s['answered']} of {s['turns']}" for s in paths.values()]
        for by_path in ratios_to.values():
            ratio = by_path.get(path)
            cells.append("–" if ratio is None else f"{ratio:.2f}×")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plots(result: dict[str, Any], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    for name, turns in result["turns"].items():
        values = sorted(t["latency"] for t in turns if t["latency"] is not None)
        if values:
            axes.step(values, np.arange(1, len(values) + 1) / len(values), label=name, where="post")
    for name, turns in (result.get("phone") or {}).get("turns", {}).items():
        values = sorted(t["latency_ms"] for t in turns if t["latency_ms"] is not None)
        if values:
            shares = np.arange(1, len(values) + 1) / len(values)
            axes.step(values, shares, label=f"phone: {name}", where="post", linestyle="--")
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
    if result["configs"]:
        axes.legend(fontsize="small", ncols=3)
    figure.tight_layout()
    figure.savefig(folder / "stages.png", dpi=120)
    plt.close(figure)
