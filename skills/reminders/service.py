"""One user's reminders: what fired, what was missed, and snoozing one."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import col, select

from skills.context import NotFound, SkillContext, SkillError
from skills.history import ChangeSet, record_action
from skills.reminders.planning import SNOOZE
from skills.types import UTCTime
from store.models import DeliveryAttempt, Reminder, ReminderStatus, TwilioStatus

# "Snooze" right after a reminder applies to it; this long after, it needs saying which.
RECENT = timedelta(hours=1)
REACHED = (ReminderStatus.DELIVERED, ReminderStatus.SENT)


class AttemptPublic(BaseModel):
    at: UTCTime
    channel: str | None
    result: str
    error: str | None
    twilio_sid: str | None = None
    # What Twilio last reported for that text or call: delivered, failed, no-answer…
    twilio_status: str | None = None


class ReminderPublic(BaseModel):
    id: uuid.UUID
    kind: str
    source_id: uuid.UUID
    origin: str
    title: str
    fire_at: UTCTime
    occurs_at: UTCTime | None
    status: ReminderStatus
    delivered_at: UTCTime | None
    channel: str | None
    attempts: list[AttemptPublic]


class ReminderService:
    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx
        self.session = ctx.session

    async def search(
        self, status: ReminderStatus | None = None, limit: int = 100
    ) -> list[ReminderPublic]:
        statement = select(Reminder).where(Reminder.user_id == self.ctx.user_id)
        if status is not None:
            statement = statement.where(Reminder.status == status)
        rows = list(
            await self.session.exec(statement.order_by(col(Reminder.fire_at).desc()).limit(limit))
        )
        attempts = await self.session.exec(
            select(DeliveryAttempt, TwilioStatus.status)
            .outerjoin(TwilioStatus, col(TwilioStatus.sid) == col(DeliveryAttempt.twilio_sid))
            .where(col(DeliveryAttempt.reminder_id).in_([row.id for row in rows]))
            .order_by(col(DeliveryAttempt.at))
        )
        by_reminder: dict[uuid.UUID, list[AttemptPublic]] = {}
        for attempt, reported in attempts:
            public = AttemptPublic.model_validate(attempt, from_attributes=True)
            public.twilio_status = reported
            by_reminder.setdefault(attempt.reminder_id, []).append(public)
        return [
            ReminderPublic(
                **row.model_dump(exclude={"user_id", "lease_until", "lease_owner", "created_at"}),
                attempts=by_reminder.get(row.id, []),
            )
            for row in rows
        ]

    async def snooze(self, reminder_id: uuid.UUID | None, until: datetime) -> Reminder:
        """Remind again at ``until`` of what ``reminder_id`` (or the reminder the user
        got last, within the hour) was about; undoable."""
        if until <= self.ctx.now():
            raise SkillError("that time has already passed")
        earlier = await self._reminder(reminder_id)
        again = Reminder(
            user_id=self.ctx.user_id,
            kind=earlier.kind,
            source_id=earlier.source_id,
            origin=SNOOZE,
            title=earlier.title,
            fire_at=until,
            occurs_at=earlier.occurs_at,
            created_at=self.ctx.now(),
        )
        self.session.add(again)
        await self.session.flush()
        changes = ChangeSet()
        changes.created(again)
        record_action(
            self.ctx, "reminders.snooze", "reminder", again.id, changes, title=again.title
        )
        return again

    async def _reminder(self, reminder_id: uuid.UUID | None) -> Reminder:
        if reminder_id is not None:
            found = await self.session.get(Reminder, reminder_id)
            if found is None or found.user_id != self.ctx.user_id:
                raise NotFound("no such reminder")
            return found
        # A text or call still waiting for Twilio's report has no delivered_at yet.
        reached_at = func.coalesce(col(Reminder.delivered_at), col(Reminder.fire_at))
        latest = (
            await self.session.exec(
                select(Reminder)
                .where(
                    Reminder.user_id == self.ctx.user_id,
                    col(Reminder.status).in_(REACHED),
                    reached_at >= self.ctx.now() - RECENT,
                )
                .order_by(reached_at.desc())
                .limit(1)
            )
        ).first()
        if latest is None:
            raise NotFound("there's no recent reminder to snooze")
        return latest
