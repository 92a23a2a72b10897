"""Field types shared by the skills' public models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Every time the API returns is in UTC, whatever offset it was given in.
UTCTime = Annotated[datetime, AfterValidator(_as_utc)]


# The calendar's times stay well inside what Python's datetime can hold, so that moving
# them by a zone offset, an event's length or a month never runs off its end (year 1 or
# 9999), which used to fail with a 500 instead of saying what was wrong.
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
TIME_LIMITS = "times must fall between the years 1000 and 8999"


def check_time(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError(TIME_LIMITS)
    return value


CalendarTime = Annotated[AwareDatetime, AfterValidator(check_time)]
