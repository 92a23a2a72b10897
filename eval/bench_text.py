"""Latency of the local text path: understand + act + word the reply, end to end
through Assistant.converse on a real store (SQLite file, or --database URL).

    uv run python -m eval.bench_text [--rounds 5] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from rich.console import Console
from rich.table import Table

from agent.dialogue.assistant import Turn
from eval.local import service_with_user
from eval.stats import percentile
from intents.temporal import warm_up as warm_temporal

# A working day's worth of commands across the skills; each round runs them all.
SCRIPT = [
    "add milk to my shopping list",
    "add eggs to the shopping list",
    "what's on my shopping list",
    "remind me to call mom tomorrow at 6",
    "schedule lunch with Sarah on friday at noon",
    "what do I have tomorrow",
    "I spent $42.50 at Home Depot",
    "spent twelve fifty on lunch",
    "how much did I spend this month",
    "when am I free for an hour next week",
    "check off milk",
    "what are my tasks",
    "move it to 7 pm",
    "undo that",
    "what's the weather like",
]


async def run(rounds: int, database: str | None) -> dict[str, float]:
    async with service_with_user(database, timezone="America/New_York") as (services, user):
        assistant = services.assistant
        assert assistant is not None
        warm_temporal()
        assistant.parser.rules.warm_up_all()
        assistant.parser.rules.warm_up_entities()  # a bench times parses, not loads
        await assistant.converse(Turn("what can you do", user.id, "warm"))
        timings: list[float] = []
        for round_number in range(rounds):
            session = f"bench-{round_number}"
            for text in SCRIPT:
                started = time.perf_counter()
                await assistant.converse(Turn(text, user.id, session))
                timings.append((time.perf_counter() - started) * 1000)
    return {
        "turns": len(timings),
        "p50": statistics.median(timings),
        "p95": percentile(timings, 0.95),
        "p99": percentile(timings, 0.99),
        "max": max(timings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", default=None, help="default: a SQLite file")
    args = parser.parse_args()
    result = asyncio.run(run(args.rounds, args.database))
    table = Table(
        "turns",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        title="Local text path: parse + action + reply (Assistant.converse)",
    )
    table.add_row(
        str(result["turns"]),
        f"{result['p50']:.1f}",
        f"{result['p95']:.1f}",
        f"{result['p99']:.1f}",
        f"{result['max']:.1f}",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
