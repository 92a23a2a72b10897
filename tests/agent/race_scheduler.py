"""One scheduler process for the race test: waits for the shared start moment, then
delivers everything due through a channel that takes a little time per reminder."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime

from agent.reminders.channels import Channels, DeliveryResult, DueReminder
from agent.reminders.scheduler import Scheduler
from store.database import create_engine, session_factory
from store.models import User


class SlowChannel:
    name = "sms"

    async def deliver(self, reminder: DueReminder, user: User) -> DeliveryResult:
        await asyncio.sleep(0.002)  # widens the window in which the other process races
        return DeliveryResult.delivered()


async def main(url: str, start_at: float) -> None:
    engine = create_engine(url)
    scheduler = Scheduler(session_factory(engine), Channels([SlowChannel()]))
    await asyncio.sleep(max(0.0, start_at - time.time()))
    handled = await scheduler.run_due(datetime.now(UTC))
    print(len(handled))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
