"""Webhooks: the URLs users and households subscribe to changes, and the outbox of
signed deliveries to them.

A delivery row is written in the same transaction as the change it reports, so a
change that rolls back sends nothing and one that commits is never lost. A sender
claims due rows with a lease (as the reminder scheduler does), and every attempt
is logged.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from store.models.base import created_field, id_field, json_field, owner_field, time_field
from store.types import EnumText


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed, or the subscription was disabled


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscriptions"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()  # who made it, and who is told when it is disabled
    # Set: it receives changes to the household's shared rows, as far as the owner's
    # role there lets them see; unset: changes to the owner's own rows.
    household_id: uuid.UUID | None = Field(
        default=None, foreign_key="households.id", index=True, ondelete="CASCADE"
    )
    url: str = Field(max_length=2000)
    secret_sealed: str = Field(max_length=2000)  # the signing secret, sealed (skills/sealing.py)
    events: list = json_field(factory=list)  # event types, e.g. ["task.created"]
    description: str | None = Field(default=None, max_length=200)
    active: bool = Field(default=True, index=True)
    failures: int = Field(default=0)  # consecutive deliveries that failed for good
    disabled_at: datetime | None = time_field()
    disabled_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_field()


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription: the outbox row, its body fixed at the change."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: uuid.UUID = id_field()  # the webhook-id header: the same on every retry
    subscription_id: uuid.UUID = Field(
        foreign_key="webhook_subscriptions.id", index=True, ondelete="CASCADE"
    )
    user_id: uuid.UUID = owner_field()  # the subscription's owner: who may read it
    event_type: str = Field(max_length=50)
    body: str = Field(sa_type=Text)  # the JSON sent, byte for byte the same on a retry
    status: DeliveryStatus = Field(
        default=DeliveryStatus.PENDING, sa_type=EnumText(DeliveryStatus, 10)
    )
    attempts: int = Field(default=0)
    next_attempt_at: datetime = created_field()
    lease_until: datetime | None = time_field()
    lease_owner: str | None = Field(default=None, max_length=100)
    created_at: datetime = created_field()
    delivered_at: datetime | None = time_field()


class WebhookAttempt(SQLModel, table=True):
    """The log: each time a delivery was sent, and what came of it."""

    __tablename__ = "webhook_attempts"

    id: uuid.UUID = id_field()
    delivery_id: uuid.UUID = Field(
        foreign_key="webhook_deliveries.id", index=True, ondelete="CASCADE"
    )
    at: datetime = created_field()
    status_code: int | None = None  # None: no answer (refused, timed out, unreachable)
    error: str | None = Field(default=None, max_length=1000)
    duration_ms: int = Field(default=0)
