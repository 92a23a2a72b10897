"""Reminders that fire: one row per moment something is due to reach the user, and
a log of every attempt to deliver it.

Rows are planned from their sources (a task's ``remind_at``, an event's alert lead)
or made directly by a snooze. A running scheduler claims due rows with a lease, so
several processes never deliver the same row, and a crashed process's claim expires.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.base import created_field, id_field, owner_field, time_field
from store.types import EnumText


class ReminderStatus(StrEnum):
    PENDING = "pending"  # waiting for its time, or claimed and being delivered
    # Twilio took the text or call; its report (delivered, answered, no-answer…) decides
    # whether it reached the user or the next channel is tried.
    SENT = "sent"
    DELIVERED = "delivered"
    MISSED = "missed"  # due too long ago when the service saw it: reported, not fired
    UNREACHED = "unreached"  # no channel reached the user
    DROPPED = "dropped"  # its source changed or went away before it was due


class ReminderKind(StrEnum):
    TASK = "task"
    EVENT = "event"


class Reminder(SQLModel, table=True):
    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("kind", "source_id", "fire_at", "origin"),
        Index("ix_reminders_due", "status", "fire_at"),
    )

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    kind: ReminderKind = Field(sa_type=EnumText(ReminderKind, 10))
    source_id: uuid.UUID  # the task or event; no foreign key: the log outlives them
    origin: str = Field(default="planned", max_length=10)  # or "snooze"
    title: str = Field(max_length=500)
    fire_at: datetime = time_field()
    occurs_at: datetime | None = time_field()  # the event's start, the task's due time
    status: ReminderStatus = Field(
        default=ReminderStatus.PENDING, sa_type=EnumText(ReminderStatus, 20)
    )
    lease_until: datetime | None = time_field()
    lease_owner: str | None = Field(default=None, max_length=100)
    delivered_at: datetime | None = time_field()
    channel: str | None = Field(default=None, max_length=20)
    # While SENT: the text or call whose report is awaited (lease_until is then when
    # waiting ends). While PENDING again after it failed: the channel it failed on,
    # so delivery goes on with the next one in the user's order.
    twilio_sid: str | None = Field(default=None, max_length=64, index=True)
    fallback_after: str | None = Field(default=None, max_length=20)
    created_at: datetime = created_field()


class DeliveryAttempt(SQLModel, table=True):
    """One try to reach the user with one reminder: when, which channel, how it went."""

    __tablename__ = "reminder_deliveries"

    id: uuid.UUID = id_field()
    reminder_id: uuid.UUID = Field(foreign_key="reminders.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = owner_field()
    at: datetime = created_field()
    channel: str | None = Field(default=None, max_length=20)  # None: no channel was tried
    result: str = Field(max_length=20)  # delivered, unreachable, failed, missed, unreached
    error: str | None = Field(default=None, max_length=1000)
    # Twilio's id of the text or call (SM… / CA…): its status callbacks find it by this.
    twilio_sid: str | None = Field(default=None, max_length=64, index=True)
