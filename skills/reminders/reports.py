"""Twilio's word on a reminder text or call, and what follows from it.

A reminder Twilio took is SENT, not yet delivered: the text may bounce, the call may
ring out. The report settles it. "Delivered" (a text) or answered (a call, seen when
its stream speaks the reminder, or Twilio's "completed") makes it DELIVERED; a text
undelivered or a call not answered puts it back to PENDING with the channel it
failed on, and the scheduler's ordinary claim (leases.py) delivers it through the
next channel in the user's order, so one process takes it once. Every transition is
a conditional update on (status SENT, that SID): a report that comes late, twice or
to two processes at once changes a reminder once, and a "completed" after a
fallback changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.sql.dml import Update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from skills.reminders.leases import Attempt, log_attempts
from skills.webhooks import outbox
from store.models import Reminder, ReminderStatus

# Twilio's statuses that say the text or call reached the user ("answered" is ours: the
# call's stream opened and spoke the reminder).
REACHED = frozenset({"delivered", "read", "completed", "answered"})
NOT_REACHED = {
    "undelivered": "the text was not delivered",
    "failed": "Twilio could not get it through",
    "no-answer": "the call was not answered",
    "busy": "the line was busy",
    "canceled": "the call was canceled",
}
CALL = "call"


async def apply_report(session: AsyncSession, sid: str, state: str, now: datetime) -> bool:
    """Settle the reminder waiting on ``sid`` by ``state``; True when it fell back (the
    scheduler has work), False otherwise (reached, still under way, or not awaited)."""
    if state in REACHED:
        await _reached(session, sid, now)
        return False
    if state in NOT_REACHED:
        return await _fall_back(session, sid, f"{NOT_REACHED[state]} ({state})", now)
    return False


async def lapse_reports(session: AsyncSession, now: datetime) -> int:
    """Reminders whose report never came in time (the callback was lost): a text Twilio
    sent and never reported failed is taken as delivered; a call nobody was heard to
    answer falls back. How many fell back."""
    overdue = await session.exec(
        select(Reminder)
        .where(Reminder.status == ReminderStatus.SENT, col(Reminder.lease_until) < now)
        .with_for_update(skip_locked=True)
    )
    fell = 0
    for reminder in list(overdue):
        if reminder.twilio_sid is None:
            continue
        if reminder.channel == CALL:
            fell += await _fall_back(session, reminder.twilio_sid, "no word of an answer", now)
        else:
            await _reached(session, reminder.twilio_sid, now)
    return fell


def _awaiting(sid: str) -> Update:
    return update(Reminder).where(
        col(Reminder.twilio_sid) == sid, col(Reminder.status) == ReminderStatus.SENT
    )


async def _reached(session: AsyncSession, sid: str, now: datetime) -> None:
    waiting = (
        await session.exec(
            select(Reminder).where(
                Reminder.twilio_sid == sid, Reminder.status == ReminderStatus.SENT
            )
        )
    ).first()
    result = await session.exec(  # type: ignore[call-overload]
        _awaiting(sid).values(
            status=ReminderStatus.DELIVERED, delivered_at=now, lease_until=None, twilio_sid=None
        )
    )
    if result.rowcount and waiting is not None:  # this report, not another, settled it
        await outbox.reminder_fired(session, waiting, waiting.channel, now)


async def _fall_back(session: AsyncSession, sid: str, why: str, now: datetime) -> bool:
    waiting = (
        await session.exec(
            select(Reminder).where(
                Reminder.twilio_sid == sid, Reminder.status == ReminderStatus.SENT
            )
        )
    ).first()
    if waiting is None:
        return False
    failed_on = waiting.channel  # read before the update refreshes the row
    result = await session.exec(  # type: ignore[call-overload]
        _awaiting(sid)
        .where(col(Reminder.id) == waiting.id)
        .values(
            status=ReminderStatus.PENDING,
            lease_until=None,
            lease_owner=None,
            twilio_sid=None,
            channel=None,
            fallback_after=failed_on,
        )
    )
    if not result.rowcount:
        return False  # another report (or process) settled it first
    log_attempts(session, waiting, [Attempt(failed_on, "fallback", why)], now)
    return True
