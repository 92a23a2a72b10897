"""Calendar events, with recurrence and the identifiers external sync needs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.base import (
    Timestamped,
    created_field,
    id_field,
    json_field,
    owner_field,
    ref_field,
    time_field,
)
from store.models.users import MAX_ALERT_MINUTES


class Event(Timestamped, table=True):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("end_at >= start_at", name="ends_after_start"),
        UniqueConstraint("user_id", "external_uid"),
    )

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    household_id: uuid.UUID | None = ref_field("households")  # on its calendar when set
    title: str = Field(max_length=500)
    description: str | None = None
    start_at: datetime = time_field(index=True)
    end_at: datetime = time_field(index=True)
    all_day: bool = Field(default=False, nullable=False)
    # The zone the event was planned in, so a weekly 9:00 stays 9:00 across DST.
    timezone: str = Field(default="UTC", max_length=64)
    location: str | None = Field(default=None, max_length=500)
    attendees: list = json_field(factory=list)
    recurrence: str | None = Field(default=None, max_length=1000)  # an RFC 5545 RRULE
    # Minutes before the start to remind the user; None: their default lead time.
    alert_minutes: int | None = Field(default=None, ge=0, le=MAX_ALERT_MINUTES)
    exdates: list = json_field(factory=list)  # ISO start times of cancelled instances
    external_uid: str | None = Field(default=None, max_length=500)
    external_etag: str | None = Field(default=None, max_length=500)
    meta: dict = json_field(column="metadata")


class CalendarAccount(Timestamped, table=True):
    """A CalDAV calendar the user syncs with; the password is kept encrypted."""

    __tablename__ = "calendar_accounts"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="users.id", unique=True, ondelete="CASCADE")
    url: str = Field(max_length=2000)  # the calendar collection, e.g. https://host/dav/ann/work/
    username: str = Field(max_length=200)
    password_sealed: str = Field(max_length=2000)
    last_synced_at: datetime | None = time_field()


class CalendarTombstone(SQLModel, table=True):
    """A synced event deleted here, still to be deleted on the CalDAV server."""

    __tablename__ = "calendar_tombstones"
    __table_args__ = (UniqueConstraint("user_id", "external_uid"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    external_uid: str = Field(max_length=500)
    href: str | None = Field(default=None, max_length=2000)
    deleted_at: datetime = created_field()
