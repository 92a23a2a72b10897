"""The bearer tokens the service has issued, so that each can be revoked before it
expires (signing out, a lost phone, a speaker given away)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from store.models.base import created_field, owner_field, time_field
from store.types import UTCDateTime

MAX_LABEL = 100


class IssuedToken(SQLModel, table=True):
    """One issued token, by its JWT id. The token itself is never stored: its
    signature is what proves it; this row only says whether it still counts."""

    __tablename__ = "issued_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = owner_field()
    label: str = Field(max_length=MAX_LABEL)  # "cli", "web page", a device's name
    created_at: datetime = created_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = time_field()
