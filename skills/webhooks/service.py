"""A user's webhook subscriptions: made (the signing secret shown once), listed,
removed, re-enabled, pinged; their deliveries listed with every attempt, and
replayed. Another user's subscriptions and deliveries do not exist for this one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import update
from sqlmodel import col, select

from skills import access
from skills.addresses import Network, RefusedTarget, check_public
from skills.context import NotFound, SkillContext, SkillError
from skills.sealing import seal
from skills.webhooks.events import EVENT_TYPES, TEST_EVENT
from skills.webhooks.signing import message_id, new_secret
from store.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from store.models import WebhookSubscription as Subscription
from store.repositories import audit

MAX_SUBSCRIPTIONS = 20  # per user: each one multiplies every change's deliveries


class Conflict(SkillError):
    status = 409


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, description="http(s) address that receives POSTs")
    # None: every event type (see EVENT_TYPES).
    events: list[str] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES))
    household_id: uuid.UUID | None = None  # receive the household's shared changes
    description: str | None = Field(default=None, max_length=200)

    @field_validator("events")
    @classmethod
    def _known(cls, events: list[str] | None) -> list[str] | None:
        unknown = sorted(set(events or []) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {sorted(EVENT_TYPES)}")
        return sorted(set(events)) if events else None


class WebhookPublic(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    household_id: uuid.UUID | None
    description: str | None
    active: bool
    failures: int
    disabled_at: datetime | None
    disabled_reason: str | None  # why it stopped: its owner reads it here
    created_at: datetime


class WebhookCreated(WebhookPublic):
    secret: str  # "whsec_…": shown once, here; keep it to verify signatures


class AttemptPublic(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryPublic(BaseModel):
    id: uuid.UUID
    message_id: str  # the webhook-id header
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]
    log: list[AttemptPublic]


class WebhookService:
    def __init__(self, ctx: SkillContext, allowed: Sequence[Network] = ()) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self.allowed = allowed  # private networks an operator lets receivers be on

    async def create(self, body: WebhookCreate) -> WebhookCreated:
        if body.household_id is not None and body.household_id not in await access.memberships(
            self.ctx
        ):
            raise NotFound("no such household")
        if len(await self._mine()) >= MAX_SUBSCRIPTIONS:
            raise Conflict(f"you have {MAX_SUBSCRIPTIONS} webhooks already; remove one first")
        try:
            await check_public(body.url, self.allowed)
        except RefusedTarget as exc:
            if isinstance(exc.__cause__, OSError):
                raise SkillError("the URL's host name could not be found") from exc
            raise SkillError(
                "the URL must be http(s) on a public address (a private, loopback or "
                "link-local one is refused)"
            ) from exc
        secret = new_secret()
        made = Subscription(
            user_id=self.ctx.user_id,
            household_id=body.household_id,
            url=body.url,
            secret_sealed=seal(self.ctx, secret),
            events=body.events or sorted(EVENT_TYPES),
            description=body.description,
        )
        self.session.add(made)
        audit.record(self.session, self.ctx.user_id, "webhooks.create", "webhook", made.id,
                     meta={"url": made.url}, ip=self.ctx.ip)  # fmt: skip
        await self.session.flush()
        return WebhookCreated(**_public(made).model_dump(), secret=secret)

    async def mine(self) -> list[WebhookPublic]:
        return [_public(s) for s in await self._mine()]

    async def delete(self, subscription_id: uuid.UUID) -> None:
        found = await self._get(subscription_id)
        await self.session.delete(found)
        audit.record(self.session, self.ctx.user_id, "webhooks.delete", "webhook", found.id,
                     meta={"url": found.url}, ip=self.ctx.ip)  # fmt: skip
        await self.session.flush()

    async def enable(self, subscription_id: uuid.UUID) -> WebhookPublic:
        """Take a disabled webhook back: its deliveries still waiting go out now (its
        receiver is taken to be fixed), the changes made while it was off never will."""
        found = await self._get(subscription_id)
        found.active, found.failures = True, 0
        found.disabled_at = found.disabled_reason = None
        self.session.add(found)
        await self.session.exec(  # type: ignore[call-overload]
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.subscription_id) == found.id,
                col(WebhookDelivery.status) == DeliveryStatus.PENDING,
            )
            .values(next_attempt_at=self.ctx.now())
        )
        await self.session.flush()
        return _public(found)

    async def ping(self, subscription_id: uuid.UUID) -> DeliveryPublic:
        """Queue a ``webhook.test`` delivery, to check the receiver and its signature check."""
        found = await self._get(subscription_id)
        now = self.ctx.now()
        body = {
            "type": TEST_EVENT,
            "timestamp": now.isoformat(),
            "data": {"webhook_id": str(found.id)},
        }
        delivery = WebhookDelivery(
            subscription_id=found.id,
            user_id=self.ctx.user_id,
            event_type=TEST_EVENT,
            body=json.dumps(body, separators=(",", ":")),
            next_attempt_at=now,
        )
        self.session.add(delivery)
        await self.session.flush()
        return _delivery(delivery, [])

    async def deliveries(self, subscription_id: uuid.UUID, limit: int = 50) -> list[DeliveryPublic]:
        found = await self._get(subscription_id)
        rows = list(
            await self.session.exec(
                select(WebhookDelivery)
                .where(WebhookDelivery.subscription_id == found.id)
                .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id))
                .limit(limit)
            )
        )
        logs = await self._attempts([d.id for d in rows])
        return [_delivery(d, logs.get(d.id, [])) for d in rows]

    async def replay(self, delivery_id: uuid.UUID) -> DeliveryPublic:
        """Send a delivery again, whatever became of it (same webhook-id)."""
        delivery = await self.session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.user_id != self.ctx.user_id:
            raise NotFound("no such delivery")
        subscription = await self._get(delivery.subscription_id)
        if not subscription.active:
            raise Conflict("that webhook is disabled; enable it first")
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = self.ctx.now()
        delivery.lease_until = delivery.lease_owner = None
        delivery.delivered_at = None
        self.session.add(delivery)
        await self.session.flush()
        logs = await self._attempts([delivery.id])
        return _delivery(delivery, logs.get(delivery.id, []))

    async def _mine(self) -> list[Subscription]:
        rows = await self.session.exec(
            select(Subscription)
            .where(Subscription.user_id == self.ctx.user_id)
            .order_by(col(Subscription.created_at), col(Subscription.id))
        )
        return list(rows)

    async def _get(self, subscription_id: uuid.UUID) -> Subscription:
        found = await self.session.get(Subscription, subscription_id)
        if found is None or found.user_id != self.ctx.user_id:
            raise NotFound("no such webhook")
        return found

    async def _attempts(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[AttemptPublic]]:
        if not ids:
            return {}
        rows = await self.session.exec(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(ids))
            .order_by(col(WebhookAttempt.at), col(WebhookAttempt.id))
        )
        found: dict[uuid.UUID, list[AttemptPublic]] = {}
        for row in rows:
            found.setdefault(row.delivery_id, []).append(
                AttemptPublic.model_validate(row.model_dump())
            )
        return found


def _public(subscription: Subscription) -> WebhookPublic:
    return WebhookPublic.model_validate(subscription.model_dump())


def _delivery(delivery: WebhookDelivery, log: list[AttemptPublic]) -> DeliveryPublic:
    return DeliveryPublic(
        **delivery.model_dump(
            exclude={"body", "subscription_id", "user_id", "lease_until", "lease_owner"}
        ),
        message_id=message_id(delivery.id),
        payload=json.loads(delivery.body),
        log=log,
    )
