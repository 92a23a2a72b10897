"""The task API's models: what goes in, what comes out."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, field_validator

from skills.types import CalendarTime, UTCTime
from store.models import TaskStatus

Title = Field(min_length=1, max_length=500)


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Title
    description: str | None = None
    list: str | None = Field(default=None, max_length=200, description="List name; fuzzy-matched")
    project: str | None = Field(default=None, max_length=200, description="Project name")
    assignee: str | None = Field(default=None, max_length=200)
    due_at: CalendarTime | None = None
    remind_at: CalendarTime | None = None
    priority: int = Field(default=0, ge=0, le=3, description="0 none, 1 low, 2 medium, 3 high")
    recurrence: str | None = Field(default=None, max_length=500, description="RFC 5545 RRULE")

    _strip_text = field_validator("title", "list", "project", "assignee", mode="before")(_strip)


class TaskUpdate(BaseModel):
    """Only the fields sent are changed; sending null clears a field."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = None
    list: str | None = Field(default=None, max_length=200)
    project: str | None = Field(default=None, max_length=200)
    assignee: str | None = Field(default=None, max_length=200)
    due_at: CalendarTime | None = None
    remind_at: CalendarTime | None = None
    priority: int | None = Field(default=None, ge=0, le=3)
    status: TaskStatus | None = None
    recurrence: str | None = Field(default=None, max_length=500)

    _strip_text = field_validator("title", "list", "project", "assignee", mode="before")(_strip)


class TaskQuery(BaseModel):
    text: str | None = None
    list: str | None = None
    project: str | None = None
    status: TaskStatus | None = None
    priority: int | None = Field(default=None, ge=0, le=3)
    due_from: CalendarTime | None = None
    due_to: CalendarTime | None = None
    limit: int = Field(default=100, ge=1, le=500)


class TaskPublic(BaseModel):
    id: uuid.UUID
    title: str
    description: str | None
    list: str | None
    list_id: uuid.UUID | None
    project: str | None
    project_id: uuid.UUID | None
    assignee: str | None
    due_at: UTCTime | None
    remind_at: UTCTime | None
    priority: int
    status: TaskStatus
    recurrence: str | None
    completed_at: UTCTime | None
    created_at: UTCTime
    updated_at: UTCTime


class ListCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)

    _strip_name = field_validator("name", mode="before")(_strip)


class ListPublic(BaseModel):
    id: uuid.UUID
    name: str
    open_tasks: int
    household_id: uuid.UUID | None = None  # the household it is shared with
    household: str | None = None
    mine: bool = True  # False: another member's list, shared with a household of yours


class ListShare(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_id: uuid.UUID | None  # null: keep the list to yourself again
