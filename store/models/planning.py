"""Lists, projects and tasks. Reminders and shopping items are tasks too."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.base import (
    Timestamped,
    decimal_field,
    id_field,
    json_field,
    owner_field,
    ref_field,
    time_field,
)
from store.types import EnumText


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class TaskList(Timestamped, table=True):
    """A named list ("shopping", "hardware store"); names are unique per user."""

    __tablename__ = "lists"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    household_id: uuid.UUID | None = ref_field("households")  # shared with it when set
    name: str = Field(max_length=200)


class Project(Timestamped, table=True):
    """A job or client project that tasks, money and invoices hang off."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    household_id: uuid.UUID | None = ref_field("households")  # shared with it when set
    name: str = Field(max_length=200)
    client: str | None = Field(default=None, max_length=200)
    status: str = Field(default="active", max_length=20)
    currency: str = Field(default="USD", max_length=3)
    budget: Decimal | None = decimal_field(nullable=True)
    hourly_rate: Decimal | None = decimal_field(nullable=True)


class TaskFields(SQLModel):
    title: str = Field(max_length=500)
    description: str | None = None
    assignee: str | None = Field(default=None, max_length=200)
    due_at: datetime | None = time_field(index=True)
    remind_at: datetime | None = time_field(index=True)
    priority: int = Field(default=0, ge=0, le=3)  # 0 none, 1 low, 2 medium, 3 high
    status: TaskStatus = Field(
        default=TaskStatus.OPEN, sa_type=EnumText(TaskStatus, 20), index=True
    )
    recurrence: str | None = Field(default=None, max_length=500)  # an RFC 5545 RRULE


class Task(TaskFields, Timestamped, table=True):
    __tablename__ = "tasks"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    list_id: uuid.UUID | None = ref_field("lists")
    project_id: uuid.UUID | None = ref_field("projects")
    meta: dict = json_field(column="metadata")
    completed_at: datetime | None = time_field()
