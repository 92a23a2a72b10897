"""What happened: the audit log, conversation turns and processed webhook ids."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.base import created_field, id_field, json_field, owner_field


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    action: str = Field(max_length=100, index=True)  # e.g. "tasks.create"
    resource_type: str = Field(max_length=50)
    resource_id: str | None = Field(default=None, max_length=64)
    at: datetime = created_field()
    meta: dict = json_field(column="metadata")
    ip: str | None = Field(default=None, max_length=45)


class ConversationTurn(SQLModel, table=True):
    __tablename__ = "conversation_turns"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    session_id: str = Field(max_length=100, index=True)
    channel: str = Field(max_length=20)  # web, phone, sms, speaker, api, cli
    role: str = Field(max_length=10)  # user or assistant
    text: str
    intent: dict = json_field()
    created_at: datetime = created_field()


class ProcessedWebhook(SQLModel, table=True):
    """A delivery we already handled, so a retried webhook is not acted on twice."""

    __tablename__ = "processed_webhooks"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)

    id: uuid.UUID = id_field()
    provider: str = Field(max_length=30)
    external_id: str = Field(max_length=200)
    received_at: datetime = created_field()
