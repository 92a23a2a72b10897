"""The dev set as tests: every utterance gets its intent and its listed slots.
Adding a phrasing is a YAML edit (eval/data/intents_dev.yaml, intents/sentences/en)."""

from __future__ import annotations

from eval.intents import evaluate, load_dev_set
from intents.model import VOCABULARY
from intents.rules import RuleParser


def test_every_dev_utterance_is_understood(rules: RuleParser) -> None:
    now, cases = load_dev_set()
    assert len(cases) >= 300
    assert {c["intent"] for c in cases} >= set(VOCABULARY)  # every intent, out of scope too
    report = evaluate(rules, now, cases)
    misses = "\n".join(
        f"{text!r}: wanted {want}, got {got} {slots}" for text, want, got, slots in report.misses
    )
    assert report.intent_accuracy == 1.0 and report.slot_exactness == 1.0, misses
