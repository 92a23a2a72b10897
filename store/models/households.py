"""Households: people who share lists, calendars, projects and money, each with a role."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.base import created_field, id_field, owner_field, time_field
from store.types import EnumText, UTCDateTime


class HouseholdRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"
    BOOKKEEPER = "bookkeeper"  # sees the money, not the lists


class Household(SQLModel, table=True):
    """A family or a small business. Every user has a personal one they own."""

    __tablename__ = "households"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=100)
    personal: bool = Field(default=False, nullable=False)
    created_at: datetime = created_field()


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("household_id", "user_id"),)

    id: uuid.UUID = id_field()
    household_id: uuid.UUID = Field(foreign_key="households.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = owner_field()
    role: HouseholdRole = Field(sa_type=EnumText(HouseholdRole, 20))
    created_at: datetime = created_field()


class Invitation(SQLModel, table=True):
    """A single-use, expiring code for one email address or phone number. Only the
    code's SHA-256 is kept: the store never holds a code that could still be used."""

    __tablename__ = "invitations"

    id: uuid.UUID = id_field()
    household_id: uuid.UUID = Field(foreign_key="households.id", index=True, ondelete="CASCADE")
    invited_by: uuid.UUID = owner_field()
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=16)
    role: HouseholdRole = Field(sa_type=EnumText(HouseholdRole, 20))
    code_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    accepted_at: datetime | None = time_field()
    accepted_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = created_field()
