"""Signing in like a person: a password, one-time codes sent by email or SMS, and the
refresh tokens that keep a web page signed in."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from store.models.base import created_field, id_field, owner_field, time_field
from store.types import EnumText, UTCDateTime


class Password(SQLModel, table=True):
    """A user's password, as an argon2 hash. No row: no password set yet."""

    __tablename__ = "passwords"

    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    hash: str = Field(max_length=200)
    updated_at: datetime = created_field()


class CodePurpose(StrEnum):
    SIGN_IN = "sign_in"  # six digits by email or SMS, instead of the password
    RESET = "reset"  # six digits by email or SMS, to set a new password
    SETUP = "setup"  # a long secret in a link: the owner's first password


class OneTimeCode(SQLModel, table=True):
    """A code sent to a user, kept only as a keyed hash; used once, for a short time,
    with a few attempts."""

    __tablename__ = "one_time_codes"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    purpose: CodePurpose = Field(sa_type=EnumText(CodePurpose, length=20), nullable=False)
    code_hash: str = Field(max_length=64, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    attempts: int = Field(default=0, nullable=False)
    used_at: datetime | None = time_field()
    created_at: datetime = created_field()


class RefreshToken(SQLModel, table=True):
    """One refresh token of a signed-in page, by the hash of its secret. Each use
    hands out the next in the same family; a used one brought again means it was
    copied, and the whole family is revoked."""

    __tablename__ = "refresh_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = owner_field()
    family: str = Field(max_length=32, index=True)
    access_jti: str = Field(max_length=64)  # the access token handed out beside it
    created_at: datetime = created_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = time_field()
    revoked_at: datetime | None = time_field()
