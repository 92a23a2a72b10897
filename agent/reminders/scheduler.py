"""The scheduler `lifeos serve` runs: every few seconds it plans what has come due,
claims it, and delivers each reminder once through the user's channels in order.

Tests drive it without sleeping: `run_due(now)` is one whole step at a given time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from agent.dialogue.state import Last, Saved, save_notice
from agent.reminders.channels import Channels, DeliveryChannel, DeliveryResult, DueReminder
from agent.reminders.wording import missed_text, notice_text
from skills.context import system_clock
from skills.reminders.leases import (
    Attempt,
    claim_due,
    new_owner,
    next_due,
    retry_unreached,
    settle,
)
from skills.reminders.planning import plan_due, still_wanted
from skills.reminders.reports import lapse_reports
from store.database import reading, session_scope
from store.models import Reminder, ReminderKind, ReminderStatus, User

if TYPE_CHECKING:
    from agent.observe.metrics import Metrics

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Channels,
        *,
        clock: Callable[[], datetime] = system_clock,
        missed_after: timedelta = timedelta(hours=12),
        lease: timedelta = timedelta(minutes=2),
        interval: float = 2.0,
        owner: str | None = None,
        batch: int = 20,
        metrics: Metrics | None = None,
        report_wait: timedelta = timedelta(minutes=15),
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.clock = clock
        self.missed_after = missed_after
        self.lease = lease
        self.interval = interval
        self.owner = owner or new_owner()
        self.batch = batch
        self.metrics = metrics  # delivered, late and undelivered reminders are counted
        self.report_wait = report_wait  # how long a text or call waits for Twilio's report
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def run_due(self, now: datetime | None = None) -> list[Reminder]:
        """Plan, claim and deliver everything due at ``now``; the reminders handled."""
        now = now or self.clock()
        ahead = timedelta(seconds=self.interval)
        async with session_scope(self.sessions) as db:
            await plan_due(db, now, self.missed_after, ahead)
            await lapse_reports(db, now)
        handled: list[Reminder] = []
        while True:
            async with session_scope(self.sessions) as db:
                claimed = await claim_due(db, now, self.owner, self.lease, self.batch)
            results = await self._handle_all(claimed, now)
            for reminder, result in zip(claimed, results, strict=True):
                if isinstance(result, Exception):  # left claimed: retried when the lease lapses
                    log.error("reminder %s: %s", reminder.id, type(result).__name__)
            handled.extend(claimed)
            if not claimed:
                return handled

    async def _handle_all(self, claimed: list[Reminder], now: datetime) -> list[Any]:
        """Side by side on PostgreSQL, so a slow channel (a phone call) does not hold up
        the rest; one after the other on SQLite, whose writers would only queue for its
        one write lock (its busy handler sleeps while it waits)."""
        if self.sessions.kw["bind"].dialect.name == "sqlite":
            results: list[Any] = []
            for reminder in claimed:
                try:
                    results.append(await self._handle(reminder, now))
                except Exception as exc:
                    results.append(exc)
            return results
        return await asyncio.gather(
            *(self._handle(reminder, now) for reminder in claimed), return_exceptions=True
        )

    async def _handle(self, reminder: Reminder, now: datetime) -> None:
        async with reading(self.sessions) as db:
            user = await db.get(User, reminder.user_id)
            wanted = user is not None and await still_wanted(db, reminder)
        if user is None or not wanted:
            await self._settle(reminder, ReminderStatus.DROPPED, [Attempt(None, "dropped")], now)
            self._count(ReminderStatus.DROPPED)
            return
        local = now.astimezone(ZoneInfo(user.preferences.timezone))
        if now - reminder.fire_at > self.missed_after:
            note = Attempt(None, "missed", missed_text(reminder, local))
            await self._settle(reminder, ReminderStatus.MISSED, [note], now)
            self._count(ReminderStatus.MISSED)
            return
        due = DueReminder(reminder, notice_text(reminder, local), local)
        started = time.perf_counter()
        attempts, reached = await self._deliver(due, user)
        # Late by as much as the step began after its time, plus the delivery itself.
        delay = (now - reminder.fire_at).total_seconds() + time.perf_counter() - started
        if reached is None:
            status = ReminderStatus.UNREACHED
            attempts.append(Attempt(None, "unreached", "no channel reached the user"))
        else:
            status = ReminderStatus.SENT if reached.result == "sent" else ReminderStatus.DELIVERED
        await self._settle(reminder, status, attempts, now, reached, due.text)
        self._count(status, attempts[-1].channel, delay)

    def _count(self, status: ReminderStatus, channel: str | None = None, delay: float = 0) -> None:
        if self.metrics is None or status == ReminderStatus.SENT:
            return  # a text or call Twilio took: neither delivered nor not, until it reports
        if status == ReminderStatus.DELIVERED and channel is not None:
            self.metrics.reminder_delivered(channel, delay)
        else:
            self.metrics.reminder_undelivered(status.value)

    async def _deliver(
        self, due: DueReminder, user: User
    ) -> tuple[list[Attempt], DeliveryResult | None]:
        attempts: list[Attempt] = []
        channels = self.channels.for_user(user.preferences.reminder_channels)
        for channel in _after(channels, due.reminder.fallback_after):
            try:
                result = await channel.deliver(due, user)
            except Exception as exc:  # one broken channel must not stop the others
                log.exception("reminder channel %s failed", channel.name)
                result = DeliveryResult("failed", f"{type(exc).__name__}: {exc}")
            attempts.append(Attempt(channel.name, result.result, result.detail, result.twilio_sid))
            if result.result in ("delivered", "sent"):
                return attempts, result
        return attempts, None

    async def _settle(
        self,
        reminder: Reminder,
        status: ReminderStatus,
        attempts: list[Attempt],
        now: datetime,
        reached: DeliveryResult | None = None,
        said: str = "",
    ) -> None:
        async with session_scope(self.sessions) as db:
            report_by = now + self.report_wait
            if not await settle(db, reminder, self.owner, status, attempts, now, report_by):
                log.warning("reminder %s: the claim lapsed before it was settled", reminder.id)
            if reached is not None and reached.session_id:
                channel = attempts[-1].channel or "api"
                save_notice(
                    db, reminder.user_id, reached.session_id, channel, said, _context(reminder), now
                )

    def wake(self) -> None:
        """Look for work now (a reminder fell back to its next channel)."""
        self._wake.set()

    async def reachable_again(self, user_id: uuid.UUID) -> None:
        """The user opened a channel (the page): what could not reach them within the
        missed limit goes out now."""
        since = self.clock() - self.missed_after
        async with session_scope(self.sessions) as db:
            retried = await retry_unreached(db, user_id, since)
        if retried:
            self._wake.set()

    # --- running inside the service ------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="reminder-scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        while True:
            pause = self.interval
            try:
                await self.run_due()
                pause = await self._until_next()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: log it and try again next round
                log.exception("the reminder scheduler's round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
            self._wake.clear()

    async def _until_next(self) -> float:
        """Seconds to sleep: until the next planned reminder, at most one interval (a
        reminder set meanwhile is planned on the next round)."""
        now = self.clock()
        async with reading(self.sessions) as db:
            upcoming = await next_due(db, now)
        if upcoming is None:
            return self.interval
        return max(0.0, min(self.interval, (upcoming - now).total_seconds()))


def _after(channels: list[DeliveryChannel], failed: str | None) -> list[DeliveryChannel]:
    """The channels still to try: after a text or call that did not reach the user,
    those after it in the user's order."""
    names = [channel.name for channel in channels]
    if failed is None:
        return channels
    if failed in names:
        return channels[names.index(failed) + 1 :]
    return [channel for channel in channels if channel.name != failed]


def _context(reminder: Reminder) -> Saved:
    """What the user's next words apply to: the task or event just reminded of."""
    kind = "task" if reminder.kind == ReminderKind.TASK else "event"
    start = reminder.occurs_at.isoformat() if reminder.occurs_at else None
    last = Last(kind=kind, id=str(reminder.source_id), title=reminder.title, start_at=start)
    return Saved(last=last, reminder=str(reminder.id))
