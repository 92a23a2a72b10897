"""The harness's report: ours against both stock pipecat baselines, ratio by ratio,
and the real voices scored apart from the synthetic ones."""

from __future__ import annotations

from pathlib import Path

from eval.client import TurnResult
from eval.corpus import Turn
from eval.real_voices import ORDERS, WORDS, Recording
from eval.report import accuracy, compare, markdown, ratios, real_voices


def _summary(p50: float, p95: float) -> dict[str, object]:
    return {"turns": 10, "latency_ms": {"p50": p50, "p95": p95}, "wer": 0.1}


def _result(configs: dict[str, dict[str, object]]) -> dict[str, object]:
    return {"when": "2026-11-30T18:00:00", "corpus": "quick", "configs": configs}


def test_the_table_shows_ours_against_each_baseline() -> None:
    configs = {
        "ours": _summary(400, 900),
        "stock pipecat": _summary(2000, 6000),
        "stock pipecat base": _summary(1000, 3000),
    }
    table = markdown(_result(configs))
    head = next(line for line in table.splitlines() if line.startswith("| metric"))
    assert "stock pipecat base" in head
    assert "ours ÷ stock pipecat |" in head and "ours ÷ stock pipecat base |" in head
    p50 = next(line for line in table.splitlines() if line.startswith("| latency p50 |"))
    assert p50.split("|")[5:7] == [" 0.20× ", " 0.40× "]  # against tiny.en, against base
    assert ratios(configs)["stock pipecat base"]["latency_ms.p95"] == 0.3


def test_compare_reads_an_older_run_with_one_baseline() -> None:
    old = _result({"ours": _summary(500, 1000), "stock pipecat": _summary(2000, 5000)})
    new = _result(
        {
            "ours": _summary(400, 900),
            "stock pipecat": _summary(2000, 6000),
            "stock pipecat base": _summary(1000, 3000),
        }
    )
    text = compare(old, new, "old.json", "new.json")
    assert "ours: old.json vs new.json" in text
    assert "stock pipecat base: old.json" not in text  # only in one run
    p50 = next(line for line in text.splitlines()[::-1] if line.startswith("| latency p50 |"))
    assert p50.split("|")[2:5] == [" 0.25× ", " 0.20× ", " 0.40× "]


def _recording(kind: str, reference: str) -> Recording:
    return Recording(Path(f"{reference}.flac"), kind, reference, "tune")


def test_real_voices_are_scored_apart_from_the_synthetic_wer() -> None:
    expected = [
        Turn("add milk to my shopping list", "add_task"),
        Turn("yes", recording=_recording(WORDS, "yes")),
        Turn("no", recording=_recording(WORDS, "no")),
        Turn("large latte oat milk", recording=_recording(ORDERS, "large latte oat milk")),
        Turn("drip coffee", recording=_recording(ORDERS, "drip coffee")),
    ]
    heard = [
        "Add milk to my shopping list.",
        "Yes.",
        "Now.",
        "A large latte with oat milk, a large latte",
        "A drip coffee please.",
    ]
    turns = [
        TurnResult(e.text, heard=h, latency=100.0 * n)
        for n, (e, h) in enumerate(zip(expected, heard, strict=True))
    ]
    assert accuracy(turns, expected)["wer"] == 0.0  # the orders' slot words are no transcript
    real = real_voices(turns, expected)
    assert (real["words"], real["orders"]) == (2, 2)
    assert real["latency_p50_ms"] == 250.0  # of the real turns only
    assert real["words_wer"] == 0.5 and real["words_exact"] == 0.5
    assert real["slot_recall"] == 1.0 and real["orders_whole"] == 1.0
    assert real["repeat_rate"] == 0.5
