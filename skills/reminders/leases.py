"""Claiming due reminders with a lease, and recording how each delivery went.

On PostgreSQL due rows are read ``FOR UPDATE SKIP LOCKED``: processes claiming at
the same moment each take different rows instead of waiting for one another. On
SQLite (one process) the claim's transaction takes the write lock first (BEGIN
IMMEDIATE, store/database.py), which serializes claims the same way. A claim lasts
until ``lease_until``: a process that dies mid-delivery leaves the row to be taken
again once its lease lapses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from skills.webhooks import outbox
from store.models import DeliveryAttempt, Reminder, ReminderStatus


@dataclass(frozen=True)
class Attempt:
    channel: str | None
    result: str  # delivered, sent, unreachable, failed, missed, unreached, dropped, fallback
    error: str | None = None
    twilio_sid: str | None = None  # the text or call Twilio made, for its status reports


async def claim_due(
    session: AsyncSession, now: datetime, owner: str, lease: timedelta, limit: int = 50
) -> list[Reminder]:
    """Take up to ``limit`` due, unclaimed (or lapsed) reminders for ``owner``."""
    due = (
        select(Reminder)
        .where(
            Reminder.status == ReminderStatus.PENDING,
            col(Reminder.fire_at) <= now,
            or_(col(Reminder.lease_until).is_(None), col(Reminder.lease_until) < now),
        )
        .order_by(col(Reminder.fire_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = list(await session.exec(due))
    for reminder in claimed:
        reminder.lease_until = now + lease
        reminder.lease_owner = owner
        session.add(reminder)
    await session.flush()
    return claimed


async def next_due(session: AsyncSession, now: datetime) -> datetime | None:
    """When the next planned, unclaimed reminder is due, if one is."""
    statement = select(func.min(Reminder.fire_at)).where(
        Reminder.status == ReminderStatus.PENDING,
        col(Reminder.fire_at) > now,
        col(Reminder.lease_until).is_(None),
    )
    return (await session.exec(statement)).one()


async def settle(
    session: AsyncSession,
    reminder: Reminder,
    owner: str,
    status: ReminderStatus,
    attempts: list[Attempt],
    now: datetime,
    report_by: datetime | None = None,
) -> bool:
    """Record the attempts and the reminder's outcome; False if ``owner`` no longer
    held the claim (its lease lapsed and another process took the row). A SENT
    reminder waits for the report on its last attempt's text or call until
    ``report_by``."""
    log_attempts(session, reminder, attempts, now)
    reached = next((a for a in attempts if a.result in ("delivered", "sent")), None)
    sent = status == ReminderStatus.SENT and reached is not None
    result = await session.exec(  # type: ignore[call-overload]
        update(Reminder)
        .where(col(Reminder.id) == reminder.id, col(Reminder.lease_owner) == owner)
        .values(
            status=status,
            lease_until=report_by if sent else None,
            lease_owner=None if sent else owner,
            delivered_at=now if status == ReminderStatus.DELIVERED else None,
            channel=reached and reached.channel,
            twilio_sid=reached.twilio_sid if sent and reached else None,
            fallback_after=None,
        )
    )
    if result.rowcount and status == ReminderStatus.DELIVERED and reached is not None:
        await outbox.reminder_fired(session, reminder, reached.channel, now)
    return bool(result.rowcount)


def log_attempts(
    session: AsyncSession, reminder: Reminder, attempts: list[Attempt], now: datetime
) -> None:
    for order, attempt in enumerate(attempts):
        session.add(
            DeliveryAttempt(
                reminder_id=reminder.id,
                user_id=reminder.user_id,
                # One settle time for all, a microsecond apart: the log lists them in the
                # order they were tried (rows with equal times come back in any order).
                at=now + timedelta(microseconds=order),
                channel=attempt.channel,
                result=attempt.result,
                error=(attempt.error or None) and attempt.error[:1000],
                twilio_sid=attempt.twilio_sid,
            )
        )


async def retry_unreached(session: AsyncSession, user_id: uuid.UUID, since: datetime) -> int:
    """The user can be reached again (they opened the page): their reminders no
    channel reached since ``since`` go out again, saying when they were due."""
    result = await session.exec(  # type: ignore[call-overload]
        update(Reminder)
        .where(
            col(Reminder.user_id) == user_id,
            col(Reminder.status) == ReminderStatus.UNREACHED,
            col(Reminder.fire_at) >= since,
        )
        .values(
            status=ReminderStatus.PENDING, lease_until=None, lease_owner=None, fallback_after=None
        )
    )
    return int(result.rowcount)


def new_owner() -> str:
    """A name for this scheduler's claims, unique per process and start."""
    return f"scheduler-{uuid.uuid4().hex[:16]}"
