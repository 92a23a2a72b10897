"""The calendar API's models."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from skills.types import TIME_LIMITS, CalendarTime, UTCTime, check_time
from store.models.users import MAX_ALERT_MINUTES

MAX_RANGE = timedelta(days=366)


def _end(start: datetime, minutes: int) -> datetime:
    try:
        return check_time(start + timedelta(minutes=minutes))
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"the event would end too late: {TIME_LIMITS}") from exc


class EventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    start_at: CalendarTime
    end_at: CalendarTime | None = None
    duration_minutes: int | None = Field(default=None, description="Instead of end_at")
    all_day: bool = False
    timezone: str | None = Field(default=None, description="IANA zone; default: the user's")
    description: str | None = None
    location: str | None = Field(default=None, max_length=500)
    attendees: list[str] = Field(default_factory=list, max_length=200)
    recurrence: str | None = Field(default=None, max_length=1000, description="RFC 5545 RRULE")
    alert_minutes: int | None = Field(
        default=None,
        ge=0,
        le=MAX_ALERT_MINUTES,
        description="Remind this many minutes before; default: the user's lead",
    )
    household_id: uuid.UUID | None = Field(
        default=None, description="Put it on this household's calendar"
    )

    @field_validator("title", mode="before")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _has_positive_length(self) -> EventCreate:
        if self.end_at is None:
            if self.duration_minutes is None:
                self.end_at = self.start_at + (
                    timedelta(days=1) if self.all_day else timedelta(hours=1)
                )
            elif self.duration_minutes <= 0:
                raise ValueError("the duration must be more than zero minutes")
            else:
                self.end_at = _end(self.start_at, self.duration_minutes)
        if self.end_at <= self.start_at:
            raise ValueError("the event must end after it starts")
        return self


class EventUpdate(BaseModel):
    """Only the fields sent are changed; sending null clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=500)
    start_at: CalendarTime | None = None
    end_at: CalendarTime | None = None
    all_day: bool | None = None
    timezone: str | None = None
    description: str | None = None
    location: str | None = Field(default=None, max_length=500)
    attendees: list[str] | None = None
    recurrence: str | None = Field(default=None, max_length=1000)
    alert_minutes: int | None = Field(
        default=None,
        ge=0,
        le=MAX_ALERT_MINUTES,
        description="Remind this many minutes before; default: the user's lead",
    )
    household_id: uuid.UUID | None = Field(
        default=None, description="Share it with this household; null: take it back"
    )


class TimeRange(BaseModel):
    """A bounded window: repeating events are expanded inside it, never without end."""

    start: CalendarTime
    end: CalendarTime

    @model_validator(mode="after")
    def _bounded(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError("the range must end after it starts")
        if self.end - self.start > MAX_RANGE:
            raise ValueError("the range can span at most 366 days")
        return self


class EventPublic(BaseModel):
    id: uuid.UUID
    title: str
    start_at: UTCTime
    end_at: UTCTime
    all_day: bool
    timezone: str
    description: str | None
    location: str | None
    attendees: list[str]
    recurrence: str | None
    alert_minutes: int | None
    exdates: list[str]
    external_uid: str | None
    household_id: uuid.UUID | None = None
    created_at: UTCTime
    updated_at: UTCTime


class EventInstance(BaseModel):
    """One occurrence: a single event, or one instance of a repeating one."""

    event_id: uuid.UUID
    title: str
    start_at: UTCTime
    end_at: UTCTime
    all_day: bool
    location: str | None
    recurring: bool


class Preference(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


class SlotRequest(BaseModel):
    duration_minutes: int = Field(gt=0, le=24 * 60)
    start: CalendarTime
    end: CalendarTime
    buffer_minutes: int = Field(default=10, ge=0, le=240)
    prefer: Preference | None = None
    limit: int = Field(default=5, ge=1, le=50)

    @model_validator(mode="after")
    def _bounded(self) -> SlotRequest:
        TimeRange(start=self.start, end=self.end)
        return self


class FreeSlot(BaseModel):
    start_at: UTCTime
    end_at: UTCTime
    score: float


class Conflict(BaseModel):
    first: EventInstance
    second: EventInstance
    overlap_minutes: int
