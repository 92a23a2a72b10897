"""The dev set as a test: every utterance gets its intent and its listed slots, exactly.

The dev set holds the sentences the templates were written from, so it must pass in
full; how far understanding generalizes is measured by ``python -m eval.intents``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from intents.model import UserContext
from intents.rules import RuleParser

DEV_SET = Path(__file__).parent / "data" / "intents_dev.yaml"


@dataclass
class Report:
    total: int = 0
    intent_hits: int = 0
    slot_cases: int = 0
    slot_hits: int = 0
    misses: list[tuple[str, str, str, Any]] = field(default_factory=list)
    by_intent: dict[str, list[int]] = field(default_factory=dict)  # name → [hits, total]

    @property
    def intent_accuracy(self) -> float:
        return self.intent_hits / self.total if self.total else 0.0

    @property
    def slot_exactness(self) -> float:
        return self.slot_hits / self.slot_cases if self.slot_cases else 0.0


def load_dev_set(path: Path = DEV_SET) -> tuple[datetime, list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text())
    now = datetime.fromisoformat(data["now"]).replace(tzinfo=ZoneInfo(data["zone"]))
    return now, data["cases"]


def _matches(expected: Any, got: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(_matches(v, got.get(k)) for k, v in expected.items())
    if isinstance(expected, str) and isinstance(got, str):
        return expected.lower() == got.lower()
    return str(expected) == str(got) if not isinstance(expected, bool) else expected == got


def evaluate(parser: RuleParser, now: datetime, cases: list[dict[str, Any]]) -> Report:
    report = Report()
    context = UserContext(now=now)
    for case in cases:
        found = parser.parse(case["text"], context)
        name = found.action if found else "out_of_scope"
        slots = found.slots if found else {}
        hits = report.by_intent.setdefault(case["intent"], [0, 0])
        hits[1] += 1
        report.total += 1
        if name == case["intent"]:
            report.intent_hits += 1
            hits[0] += 1
        else:
            report.misses.append((case["text"], case["intent"], name, slots))
        if "slots" in case:
            report.slot_cases += 1
            if name == case["intent"] and _matches(case["slots"], slots):
                report.slot_hits += 1
            elif name == case["intent"]:
                report.misses.append((case["text"], "slots " + str(case["slots"]), name, slots))
    return report
