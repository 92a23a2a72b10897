"""Field types shared by the skills' public models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Every time the API returns is in UTC, whatever offset it was given in.
UTCTime = Annotated[datetime, AfterValidator(_as_utc)]
