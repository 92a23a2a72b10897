"""The trained parser on a labelled set: alone, and behind the grammar as the cascade
uses it; with a reliability table for its calibrated confidence.

    uv run --frozen python -m eval.parser [--set eval/data/intents_dev.yaml] [--show-misses]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from eval.devset import DEV_SET, _matches, load_dev_set
from intents.cascade import MODEL_CONFIDENT
from intents.model import Intent, UserContext
from intents.rules import RuleParser
from intents.trained.calibration import reliability
from intents.trained.parser import TrainedParser


@dataclass
class Tally:
    right: int = 0
    total: int = 0
    slot_right: int = 0
    slot_total: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, case: dict[str, Any], found: Intent) -> bool:
        self.total += 1
        hit = found.action == case["intent"]
        self.right += hit
        if "slots" in case and hit:
            self.slot_total += 1
            self.slot_right += _matches(case["slots"], found.slots)
        if not hit:
            self.misses.append(
                f"{case['text']!r}: wanted {case['intent']}, got {found.action} "
                f"({found.source} {found.confidence:.2f}) {found.slots}"
            )
        return hit

    def line(self, name: str) -> str:
        slots = f"{self.slot_right}/{self.slot_total}" if self.slot_total else "-"
        share = self.right / self.total
        return f"{name}: intent {self.right}/{self.total} = {share:.1%}; slots {slots}"


def ladder(rules: RuleParser, model: TrainedParser, text: str, ctx: UserContext) -> Intent:
    """The cascade without Claude: grammar, then the model when confident."""
    found = rules.parse(text, ctx)
    if found is not None:
        return found
    guess = model.parse(text, ctx)
    if guess.confidence >= MODEL_CONFIDENT:
        return guess
    return Intent("out_of_scope", {}, 0.0, "model", text=text)


def run(path: Path, show_misses: bool) -> None:
    console = Console()
    now, cases = load_dev_set(path)
    ctx = UserContext(now=now)
    rules = RuleParser()
    rules.warm_up_all()  # spaCy, dateparser and the models: not part of a parse's time
    rules.warm_up_entities()
    model = TrainedParser(rules.entities)
    alone, behind = Tally(), Tally()
    chances: list[float] = []
    outcomes: list[bool] = []
    started = time.perf_counter()
    for case in cases:
        found = model.parse(case["text"], ctx)
        outcomes.append(alone.add(case, found))
        chances.append(found.confidence)
    per_parse = (time.perf_counter() - started) * 1000 / len(cases)
    for case in cases:
        behind.add(case, ladder(rules, model, case["text"], ctx))
    console.print(f"{path.name}: {len(cases)} utterances; threshold {MODEL_CONFIDENT}")
    console.print(alone.line("trained parser alone") + f"; {per_parse:.2f} ms a parse")
    console.print(behind.line("grammar, then the trained parser when confident"))
    table = Table("confidence", "parses", "right", title="Reliability of the trained parser alone")
    for low, high, share, count in reliability(chances, outcomes):
        if count:
            table.add_row(f"{low:.1f}–{high:.1f}", str(count), f"{share:.0%}")
    console.print(table)
    if show_misses:
        for miss in behind.misses:
            console.print(f"[red]miss[/] {miss}", highlight=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", type=Path, default=DEV_SET)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    run(args.set, args.show_misses)


if __name__ == "__main__":
    main()
