"""How soon a reminder call Twilio reports unanswered reaches the next channel: from
the signed `no-answer` status callback posted to the service to the moment the next
channel (a text) is handed the reminder, with the scheduler running its own loop as
`lifeos serve` does.

    uv run --frozen python -m eval.reminder_fallback [--count 20] [--database URL]

Two ways, measured in the same run on one database: the report wakes this process's
scheduler (`lifeos serve` with the scheduler on), and the baseline where another
process's scheduler only finds the fallback at its next round (every
LIFEOS_SCHEDULER_INTERVAL_SECONDS, 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx
from rich.console import Console
from rich.table import Table
from twilio.request_validator import RequestValidator

from agent.app import create_app
from agent.reminders.channels import DeliveryResult, DueReminder
from agent.reminders.scheduler import Scheduler
from eval.local import service_with_user
from eval.stats import percentile
from store.database import session_scope
from store.models import Task, User

TOKEN = "e" * 32
PUBLIC_URL = "https://lifeos.example.com"
STATUS = "/v1/twilio/status"


class RingingCall:
    """The call channel as Twilio takes a call: sent, its outcome to be reported."""

    name = "call"

    def __init__(self) -> None:
        self.placed: dict[str, str] = {}  # title → CallSid

    async def deliver(self, reminder: DueReminder, user: User) -> DeliveryResult:
        sid = f"CA{len(self.placed):032x}"
        self.placed[reminder.reminder.title] = sid
        return DeliveryResult.sent("phone-bench", sid)


class TextHandOff:
    """The text channel, recording when each reminder reached it."""

    name = "sms"

    def __init__(self) -> None:
        self.reached: dict[str, float] = {}
        self.arrived = asyncio.Event()

    async def deliver(self, reminder: DueReminder, user: User) -> DeliveryResult:
        self.reached[reminder.reminder.title] = time.perf_counter()
        self.arrived.set()
        return DeliveryResult.delivered()


async def measure(count: int, woken: bool, database: str | None) -> list[float]:
    """Milliseconds from each no-answer report to the text channel's hand-off."""
    twilio = {
        "twilio_account_sid": "AC" + "0" * 32,
        "twilio_auth_token": TOKEN,
        "twilio_number": "+14155550100",
        "public_url": PUBLIC_URL,
    }
    async with service_with_user(database, **twilio) as (services, user):
        call, text = RingingCall(), TextHandOff()
        services.channels.register(call)
        services.channels.register(text)
        async with session_scope(services.sessions) as db:
            row = await db.get(User, user.id)
            assert row is not None
            row.settings = {**row.settings, "reminder_channels": ["call", "sms"]}
            due = datetime.now(UTC) - timedelta(seconds=1)
            for n in range(count):
                db.add(Task(user_id=user.id, title=f"reminder {n}", remind_at=due))
        scheduler = Scheduler(services.sessions, services.channels, interval=2.0)
        await scheduler.run_due()  # every call placed, waiting for its report
        services.scheduler = scheduler if woken else None
        scheduler.start()
        transport = httpx.ASGITransport(app=create_app(services=services))
        signer = RequestValidator(TOKEN)
        took: list[float] = []
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for title, sid in call.placed.items():
                    form = {"CallSid": sid, "CallStatus": "no-answer"}
                    headers = {
                        "X-Twilio-Signature": signer.compute_signature(PUBLIC_URL + STATUS, form)
                    }
                    text.arrived.clear()
                    sent_at = time.perf_counter()
                    response = await client.post(STATUS, data=form, headers=headers)
                    response.raise_for_status()
                    await asyncio.wait_for(text.arrived.wait(), 10)
                    took.append((text.reached[title] - sent_at) * 1000)
                    # Reports land anywhere in the scheduler's round, as Twilio's do.
                    await asyncio.sleep(random.uniform(0.0, 2.0))  # noqa: S311 - jitter
        finally:
            await scheduler.stop()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--database", default=None, help="default: a SQLite file")
    args = parser.parse_args()
    table = Table(
        "the report", "fallbacks", "p50 ms", "p95 ms", "max ms",
        title="Unanswered reminder call → the text handed the reminder",
    )  # fmt: skip
    for woken in (True, False):
        took = asyncio.run(measure(args.count, woken, args.database))
        table.add_row(
            "wakes the scheduler" if woken else "waits for its round (2 s)",
            str(len(took)),
            f"{statistics.median(took):.0f}",
            f"{percentile(took, 0.95):.0f}",
            f"{max(took):.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
