"""How late reminders reach the user: the scheduler as `lifeos serve` runs it (its own
loop, polling every LIFEOS_SCHEDULER_INTERVAL_SECONDS), over reminders due at spread-out
moments, measured from each reminder's due time to the moment its channel is handed
it (the web channel's stand-in records the wall clock; speaking it adds the TTS time).

    uv run --frozen python -m eval.reminders [--count 60] [--spread 30] [--database URL]

Each interval is measured in the same run, on a fresh database, one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from agent.reminders.channels import DeliveryResult, DueReminder
from agent.reminders.scheduler import Scheduler
from eval.local import service_with_user
from eval.stats import percentile
from store.database import session_scope
from store.models import Task, User


class HandOff:
    """The web channel's place in the user's order, recording when each reminder
    reached it."""

    name = "web"

    def __init__(self, expected: int) -> None:
        self.reached: dict[str, datetime] = {}
        self.expected = expected
        self.all_reached = asyncio.Event()

    async def deliver(self, reminder: DueReminder, user: User) -> DeliveryResult:
        self.reached[reminder.reminder.title] = datetime.now(UTC)
        if len(self.reached) >= self.expected:
            self.all_reached.set()
        return DeliveryResult.delivered()


async def measure(count: int, spread: float, interval: float, database: str | None) -> list[float]:
    """Lateness in milliseconds of ``count`` reminders due over ``spread`` seconds."""
    async with service_with_user(database) as (services, user):
        channel = HandOff(count)
        services.channels.register(channel)
        start = datetime.now(UTC) + timedelta(seconds=1)
        due = {f"reminder {n}": start + timedelta(seconds=spread * n / count) for n in range(count)}
        async with session_scope(services.sessions) as db:
            for title, at in due.items():
                db.add(Task(user_id=user.id, title=title, remind_at=at))
        scheduler = Scheduler(services.sessions, services.channels, interval=interval)
        scheduler.start()
        try:
            wait = spread + interval + 10
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(channel.all_reached.wait(), wait)
        finally:
            await scheduler.stop()
    if len(channel.reached) < count:
        raise RuntimeError(f"only {len(channel.reached)} of {count} reminders were delivered")
    return [(channel.reached[title] - at).total_seconds() * 1000 for title, at in due.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--spread", type=float, default=30.0, help="seconds")
    parser.add_argument("--intervals", default="2,0.5", help="scheduler intervals, seconds")
    parser.add_argument("--database", default=None, help="default: a SQLite file")
    args = parser.parse_args()
    table = Table(
        "interval s", "reminders", "p50 ms", "p95 ms", "max ms",
        title="Reminder lateness: due time → handed to the channel",
    )  # fmt: skip
    for interval in (float(value) for value in args.intervals.split(",")):
        late = asyncio.run(measure(args.count, args.spread, interval, args.database))
        table.add_row(
            f"{interval:g}",
            str(len(late)),
            f"{statistics.median(late):.0f}",
            f"{percentile(late, 0.95):.0f}",
            f"{max(late):.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
