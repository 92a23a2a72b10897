"""Intent accuracy and slot exactness of the local parser on the dev set.

uv run python -m eval.intents [--show-misses]
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from rich.console import Console
from rich.table import Table

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


def main(argv: list[str]) -> int:
    console = Console()
    parser = RuleParser()
    now, cases = load_dev_set()
    started = time.perf_counter()
    report = evaluate(parser, now, cases)
    seconds = time.perf_counter() - started
    table = Table("intent", "right", "of", "accuracy", title="Local parser on the dev set")
    for name, (hits, total) in sorted(report.by_intent.items()):
        table.add_row(name, str(hits), str(total), f"{hits / total:.0%}")
    console.print(table)
    console.print(
        f"utterances: {report.total}   intent accuracy: "
        f"[bold]{report.intent_accuracy:.1%}[/]   slot exactness: "
        f"[bold]{report.slot_exactness:.1%}[/] ({report.slot_cases} with slots)   "
        f"time: {seconds * 1000 / report.total:.2f} ms per utterance (first run, cold)"
    )
    if "--show-misses" in argv:
        for text, wanted, got, slots in report.misses:
            console.print(
                f"[red]miss[/] {text!r}: wanted {wanted}, got {got} {slots}", highlight=False
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
