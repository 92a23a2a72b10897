"""Users: who owns every other row, with their spoken-reply preferences."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema, field_validator
from sqlmodel import Field, SQLModel

from store.models.base import JSONType, created_field, id_field

# The ways a reminder can reach a user: the open web page here; "sms" and "call" are
# delivered through Twilio when the service has it configured.
REMINDER_CHANNELS = ("web", "sms", "call")
MAX_ALERT_MINUTES = 7 * 24 * 60


def _on_own_clock(moment: time) -> time:
    if moment.tzinfo is not None:
        raise ValueError("working hours are times on your own clock, without an offset")
    return moment


# A time of day on the user's own clock. JSON Schema's "time" is RFC 3339's full-time,
# which demands an offset; these carry none, so the published schema says "partial-time".
WallClock = Annotated[
    time,
    AfterValidator(_on_own_clock),
    WithJsonSchema({"type": "string", "format": "partial-time"}),
]


class WorkingHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[int] = [0, 1, 2, 3, 4]  # Monday is 0, as in datetime.weekday()
    start: WallClock = time(9, 0)
    end: WallClock = time(17, 0)

    @field_validator("days")
    @classmethod
    def _days_are_weekdays(cls, days: list[int]) -> list[int]:
        if any(d not in range(7) for d in days):
            raise ValueError("working days are numbers 0 (Monday) to 6 (Sunday)")
        return sorted(set(days))


class UserSettings(BaseModel):
    """Per-user preferences, stored as JSON on the user row."""

    model_config = ConfigDict(extra="allow")

    timezone: str = "UTC"
    currency: str = "USD"
    locale: str = "en-US"
    working_hours: WorkingHours = WorkingHours()
    # Reminders: the channels to try, in order, until one reaches the user (the open
    # page first: it costs nothing and is where the user already is; then a text, quiet
    # and answerable later; a call, which interrupts, last); and how many
    # minutes before an event to remind of it when the event names no lead of its own
    # (None: no event alerts unless an event asks for one).
    reminder_channels: list[str] = ["web", "sms", "call"]
    event_alert_minutes: int | None = Field(default=10, ge=0, le=MAX_ALERT_MINUTES)

    @field_validator("reminder_channels")
    @classmethod
    def _known_channels(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in REMINDER_CHANNELS]
        if unknown:
            raise ValueError(
                f"unknown reminder channel {unknown[0]!r}; use {', '.join(REMINDER_CHANNELS)}"
            )
        return list(dict.fromkeys(value))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return validate_timezone(value)

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return code


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())  # a directory walk: ~10 ms, so once


def validate_timezone(value: str) -> str:
    if value not in _zone_names() and value != "UTC":
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def normalize_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a valid email address: {exc}") from exc


def normalize_phone(value: str) -> str:
    """Return the number in E.164; numbers must be written internationally (+…)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(
            f"{value!r} is not a phone number in international form, like +14155550123"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class UserBase(SQLModel):
    email: str = Field(unique=True, index=True, max_length=320)
    phone: str | None = Field(default=None, unique=True, max_length=16)
    name: str | None = Field(default=None, max_length=200)


class UserCreate(UserBase):
    """What it takes to create a user; validates and normalizes every field."""

    timezone: str = "UTC"
    currency: str = "USD"

    # "before": normalize first, so length limits apply to the stored form
    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(str(value))

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalize_phone(str(value)) if value else None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return validate_timezone(value)

    def settings(self) -> UserSettings:
        return UserSettings(timezone=self.timezone, currency=self.currency)


class User(UserBase, table=True):
    __tablename__ = "users"

    id: uuid.UUID = id_field()
    settings: dict = Field(
        default_factory=lambda: UserSettings().model_dump(mode="json"),
        sa_type=JSONType,
        nullable=False,
    )
    is_owner: bool = Field(default=False, nullable=False)
    created_at: datetime = created_field()

    @property
    def preferences(self) -> UserSettings:
        return UserSettings.model_validate(self.settings)


class UserPublic(UserBase):
    id: uuid.UUID
    settings: UserSettings
    is_owner: bool
    created_at: datetime
