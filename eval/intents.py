"""How well the understanding cascade understands, and whether it knows when it does not.

    uv run python -m eval.intents            # dev set and tuning halves, with their failures
    uv run python -m eval.intents --check    # every set and both halves: figures only

Each utterance goes through the cascade the service builds, with an object standing
where Claude would be that records being asked and answers nothing: the figures are
the local path's, and "→ Claude" is the share of turns a key would send on. Every
out-of-scope utterance also goes through ``Assistant.converse`` on a seeded SQLite
store, which must not change. The check halves are never read for failures.
The exit status is 1 if any out-of-scope utterance wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.services import Services, build_assistant
from agent.settings import Settings
from eval.devset import evaluate, load_dev_set
from eval.reliability import reliability
from eval.sets import (
    CHECK,
    OUT_OF_SCOPE,
    TUNE,
    Case,
    EvalSet,
    load_blind,
    load_dev,
    load_slurp,
    slots_match,
    slurp_path,
)
from eval.show import show_failures, show_reliability, show_summary, show_writes
from eval.stats import percentile
from eval.writes import Writes, count_writes, seeded_user
from intents.model import Intent, UserContext
from store import migrate

__all__ = ["evaluate", "load_dev_set", "main"]  # the dev set as a test reads these here

WARM_UP = ("add milk to my shopping list", "I spent $4.50 at Blue Bottle", "what's the weather")


class AskedParser:
    """Stands where Claude would: notes that the cascade asked, and answers nothing."""

    def __init__(self) -> None:
        self.asked = 0

    async def parse(self, text: str, context: UserContext) -> Intent | None:
        self.asked += 1
        return None


@dataclass
class Parsed:
    case: Case
    action: str
    slots: dict[str, Any]
    confidence: float
    asked: bool
    ms: float
    checked_back: bool = False  # a tentative parse: the user is asked before it acts

    @property
    def right(self) -> bool:
        return self.action in self.case.expect

    @property
    def slots_right(self) -> bool:
        return self.right and slots_match(self.case.slots, self.slots)


@dataclass
class Score:
    name: str
    parsed: list[Parsed]
    writes: Writes | None = None
    hidden: bool = False  # a check half: figures only, never its sentences

    def _share(self, chosen: list[Parsed], hit: str) -> tuple[int, int]:
        return sum(1 for p in chosen if getattr(p, hit)), len(chosen)

    @property
    def overall(self) -> tuple[int, int]:
        return self._share(self.parsed, "right")

    @property
    def in_scope(self) -> tuple[int, int]:
        return self._share([p for p in self.parsed if p.case.in_scope], "right")

    @property
    def rejected(self) -> tuple[int, int]:
        return self._share([p for p in self.parsed if not p.case.in_scope], "right")

    @property
    def slots(self) -> tuple[int, int]:
        return self._share([p for p in self.parsed if p.case.slots], "slots_right")

    @property
    def asked(self) -> tuple[int, int]:
        return self._share(self.parsed, "asked")

    @property
    def checked_back(self) -> tuple[int, int]:
        return self._share(self.parsed, "checked_back")

    @property
    def p95_ms(self) -> float:
        return percentile([p.ms for p in self.parsed], 0.95) if self.parsed else 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(p.ms for p in self.parsed) if self.parsed else 0.0


@dataclass
class Harness:
    cascade: Any
    asker: AskedParser
    services: Services
    scores: list[Score] = field(default_factory=list)

    async def parse_all(self, chosen: EvalSet) -> list[Parsed]:
        context = chosen.user_context()
        parsed = []
        for case in chosen.cases:
            before = self.asker.asked
            started = time.perf_counter()
            found = await self.cascade.parse(case.text, context)
            ms = (time.perf_counter() - started) * 1000
            action = found.action if found is not None else OUT_OF_SCOPE
            slots = found.slots if found is not None else {}
            confidence = found.confidence if found is not None else 0.0
            asked = self.asker.asked > before
            tentative = found is not None and found.tentative
            parsed.append(Parsed(case, action, slots, confidence, asked, ms, tentative))
        return parsed

    async def score(self, chosen: EvalSet, *, hidden: bool) -> Score:
        parsed = await self.parse_all(chosen)
        assistant = self.services.assistant
        assert assistant is not None
        user = await seeded_user(assistant)
        outside = [c.text for c in chosen.cases if not c.in_scope]
        writes = await count_writes(assistant, self.services.engine, user, outside, chosen.name)
        return Score(chosen.name, parsed, writes, hidden)


def sets_to_score(check: bool, slurp: Path | None) -> list[tuple[EvalSet, bool]]:
    """(set, hidden): the dev set, then each set's tuning half and, with --check, its check half."""
    chosen: list[tuple[EvalSet, bool]] = [(load_dev(), False)]
    for whole in [load_blind(), *([load_slurp(slurp)] if slurp else [])]:
        chosen.append((whole.half(TUNE), False))
        if check:
            chosen.append((whole.half(CHECK), True))
    return chosen


async def run(check: bool, slurp: Path | None) -> list[Score]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=None, anthropic_api_key=None)
        services = Services.build(settings)
        try:
            await migrate.upgrade(services.engine)
            asker = AskedParser()
            cascade = build_assistant(services, llm=asker).parser  # type: ignore[arg-type]
            harness = Harness(cascade, asker, services)
            await harness.parse_all(
                EvalSet("warm", load_dev().now, [Case(t, ("",)) for t in WARM_UP])
            )
            return [
                await harness.score(chosen, hidden=hidden)
                for chosen, hidden in sets_to_score(check, slurp)
            ]
        finally:
            await services.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="add the check halves; figures only")
    parser.add_argument(
        "--slurp", type=Path, default=None, help="slurp-devel.jsonl (default: found)"
    )
    args = parser.parse_args(argv)
    slurp = args.slurp or slurp_path()
    started = time.perf_counter()
    scores = asyncio.run(run(args.check, slurp))
    show_summary(scores)
    show_reliability(
        reliability([p for s in scores if not s.hidden for p in s.parsed]), "dev and tuning halves"
    )
    if args.check:
        show_reliability(
            reliability([p for s in scores if s.hidden for p in s.parsed]), "check halves"
        )
    show_writes(scores)
    if not args.check:
        show_failures([s for s in scores if not s.hidden])
    if slurp is None:
        print("SLURP not found: set LIFEOS_SLURP or pass --slurp", file=sys.stderr)
    print(f"{time.perf_counter() - started:.0f} s")
    return 1 if any(s.writes and s.writes.wrote for s in scores) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
