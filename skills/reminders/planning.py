"""Which reminders are due: rows planned from the tasks' and events' own times.

Planning is idempotent: a reminder is one row per (kind, source, moment, origin), and
a row another process planned first is left as it is. When a task's ``remind_at``
or an event's time changes, a new row is planned and the old one is dropped when it
comes due (``still_wanted``), so the sources stay the one truth.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from skills.calendar.expansion import expand
from store.models import (
    Event,
    Reminder,
    ReminderKind,
    Task,
    TaskStatus,
    User,
    UserSettings,
)
from store.models.users import MAX_ALERT_MINUTES

PLANNED = "planned"
SNOOZE = "snooze"


async def plan_due(
    session: AsyncSession, now: datetime, missed_after: timedelta, ahead: timedelta = timedelta(0)
) -> int:
    """Add a row for every task reminder and event alert due by ``now + ahead`` that
    has none (planned a little ahead, the scheduler can wake exactly on time)."""
    until = now + ahead
    rows = [
        *await _due_tasks(session, until),
        *await _due_event_alerts(session, now, until, missed_after),
    ]
    for row in rows:
        row["created_at"] = now
    if rows:
        await _insert_new(session, rows)
    return len(rows)


async def _due_tasks(session: AsyncSession, until: datetime) -> list[dict[str, Any]]:
    planned = exists().where(
        Reminder.kind == ReminderKind.TASK,
        Reminder.source_id == Task.id,
        Reminder.fire_at == Task.remind_at,
        Reminder.origin == PLANNED,
    )
    tasks = await session.exec(
        select(Task).where(
            Task.status == TaskStatus.OPEN,
            col(Task.remind_at).is_not(None),
            col(Task.remind_at) <= until,
            ~planned,
        )
    )
    return [
        _row(task.user_id, ReminderKind.TASK, task.id, task.title, task.remind_at, task.due_at)
        for task in tasks
    ]


async def _due_event_alerts(
    session: AsyncSession, now: datetime, until: datetime, missed_after: timedelta
) -> list[dict[str, Any]]:
    """Alerts whose moment (the start less the lead) has come, for occurrences that
    start within the longest lead ahead and no longer ago than the missed limit."""
    start, end = now - missed_after, now + timedelta(minutes=MAX_ALERT_MINUTES)
    events = list(
        await session.exec(
            select(Event).where(
                Event.all_day == False,  # noqa: E712 — an all-day event has no moment to warn of
                or_(
                    col(Event.recurrence).is_not(None),
                    and_(col(Event.start_at) >= start, col(Event.start_at) < end),
                ),
            )
        )
    )
    if not events:
        return []
    leads = await _default_leads(session, {event.user_id for event in events})
    rows = []
    for occurrence in (await expand(events, start, end)).occurrences:
        event = occurrence.event
        lead = event.alert_minutes if event.alert_minutes is not None else leads[event.user_id]
        if lead is None or occurrence.start_at < start:
            continue
        fire_at = occurrence.start_at - timedelta(minutes=lead)
        if fire_at <= until:
            rows.append(
                _row(
                    event.user_id,
                    ReminderKind.EVENT,
                    event.id,
                    event.title,
                    fire_at,
                    occurrence.start_at,
                )
            )
    return rows


async def _default_leads(session: AsyncSession, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    users = await session.exec(select(User).where(col(User.id).in_(user_ids)))
    return {
        user.id: UserSettings.model_validate(user.settings).event_alert_minutes for user in users
    }


def _row(
    user_id: uuid.UUID,
    kind: ReminderKind,
    source_id: uuid.UUID,
    title: str,
    fire_at: datetime | None,
    occurs_at: datetime | None,
    origin: str = PLANNED,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "kind": kind,
        "source_id": source_id,
        "origin": origin,
        "title": title[:500],
        "fire_at": fire_at,
        "occurs_at": occurs_at,
    }


async def _insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert, skipping rows already planned (by another process too)."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Reminder).values(rows).on_conflict_do_nothing()
    await session.exec(statement)  # type: ignore[call-overload]


async def still_wanted(session: AsyncSession, reminder: Reminder) -> bool:
    """Is the reminder's source still asking for it? A task done, deleted or given
    another reminder time, an event moved or deleted: the row is dropped, not fired."""
    if reminder.kind == ReminderKind.TASK:
        task = await session.get(Task, reminder.source_id)
        if task is None or task.status != TaskStatus.OPEN:
            return False
        return reminder.origin == SNOOZE or task.remind_at == reminder.fire_at
    event = await session.get(Event, reminder.source_id)
    if event is None or reminder.occurs_at is None:
        return event is not None
    # Still an occurrence: not moved, and (repeating) not cancelled on that day.
    around = reminder.occurs_at - timedelta(seconds=1), reminder.occurs_at + timedelta(seconds=1)
    found = await expand([event], *around)
    return any(o.start_at == reminder.occurs_at for o in found.occurrences)
