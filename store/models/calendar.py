"""Calendar events, with recurrence and the identifiers external sync needs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field

from store.models.base import Timestamped, id_field, json_field, owner_field, time_field


class Event(Timestamped, table=True):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("end_at >= start_at", name="ends_after_start"),
        UniqueConstraint("user_id", "external_uid"),
    )

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
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
    exdates: list = json_field(factory=list)  # ISO start times of cancelled instances
    external_uid: str | None = Field(default=None, max_length=500)
    external_etag: str | None = Field(default=None, max_length=500)
    meta: dict = json_field(column="metadata")
