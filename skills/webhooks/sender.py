"""The sender: claims due deliveries from the outbox with a lease, posts each signed,
logs every attempt, retries failures with exponential backoff and jitter, and
disables a subscription that keeps failing, telling its owner.

On PostgreSQL due rows are read ``FOR UPDATE SKIP LOCKED``, so two processes
claiming at once take different rows; on SQLite (one process) the claim's
transaction holds the write lock. A process that dies mid-send leaves its rows to be
taken again when the lease lapses: a receiver may see a delivery twice, never none,
and tells the two apart by ``webhook-id``.

Tests drive it without sleeping: ``run_due(now)`` is one whole step at a given time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import InvalidToken
from sqlalchemy import func, or_, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from skills.addresses import RefusedTarget
from skills.context import system_clock
from skills.sealing import KeyRing
from skills.webhooks.signing import headers, message_id
from store.database import reading, session_scope
from store.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from store.models import WebhookSubscription as Subscription
from store.repositories import audit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8  # then the delivery has failed for good (it can be replayed)
    first_retry: timedelta = timedelta(seconds=10)
    factor: float = 4.0  # each wait this many times the last: 10 s, 40 s, 2.7 min, …
    longest: timedelta = timedelta(hours=6)
    # Consecutive failed attempts, over all of a subscription's deliveries, after
    # which it is disabled: a receiver gone for good stops costing every retry.
    disable_after: int = 20

    def wait(self, attempts: int, rng: random.Random) -> timedelta:
        """The wait after the ``attempts``-th failure: exponential, capped, with half
        of it random ("equal jitter"), so receivers that failed together are not all
        retried in the same second."""
        ceiling = self.first_retry.total_seconds() * self.factor ** (attempts - 1)
        base = min(self.longest.total_seconds(), ceiling)
        return timedelta(seconds=base / 2 + rng.uniform(0, base / 2))


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def disabled_notice(subscription: Subscription) -> str:
    """What its owner is told when a webhook is turned off."""
    host = urlsplit(subscription.url).hostname or subscription.url
    return (
        f"Your webhook to {host} was turned off after {subscription.failures} failed "
        "deliveries in a row. Turn it back on when the receiver works again."
    )


class Sender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        keys: KeyRing,
        *,
        clock: Callable[[], datetime] = system_clock,
        policy: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=2),
        interval: float = 2.0,
        batch: int = 20,
        rng: random.Random | None = None,
        on_lag: Callable[[float], None] | None = None,
        on_disabled: Callable[[Subscription], Awaitable[None]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.keys = keys
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.lease = lease
        self.interval = interval
        self.batch = batch
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.on_lag = on_lag  # the age of the oldest undelivered row, after each step
        self.on_disabled = on_disabled  # tells the owner their webhook was turned off
        self.owner = f"webhooks-{uuid.uuid4().hex[:12]}"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def run_due(self, now: datetime | None = None) -> list[WebhookDelivery]:
        """Send everything due at ``now``; the deliveries attempted."""
        now = now or self.clock()
        attempted: list[WebhookDelivery] = []
        while True:
            async with session_scope(self.sessions) as db:
                claimed = await self._claim(db, now)
            if not claimed:
                break
            await self._send_all(claimed, now)
            attempted.extend(delivery for delivery, _ in claimed)
        if self.on_lag is not None:
            self.on_lag(await self.lag(now))
        return attempted

    async def lag(self, now: datetime) -> float:
        """Seconds the oldest undelivered delivery of an active subscription has waited."""
        async with reading(self.sessions) as db:
            oldest = (
                await db.exec(
                    select(func.min(WebhookDelivery.created_at))
                    .join(Subscription)
                    .where(
                        WebhookDelivery.status == DeliveryStatus.PENDING, col(Subscription.active)
                    )
                )
            ).one()
        return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0

    async def _claim(
        self, db: AsyncSession, now: datetime
    ) -> list[tuple[WebhookDelivery, Subscription]]:
        due = (
            select(WebhookDelivery, Subscription)
            .join(Subscription)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                col(WebhookDelivery.next_attempt_at) <= now,
                or_(
                    col(WebhookDelivery.lease_until).is_(None),
                    col(WebhookDelivery.lease_until) < now,
                ),
                col(Subscription.active),
            )
            .order_by(col(WebhookDelivery.next_attempt_at))
            .limit(self.batch)
            .with_for_update(skip_locked=True, of=WebhookDelivery)  # type: ignore[arg-type]
        )
        claimed = list((await db.exec(due)).all())
        for delivery, _ in claimed:
            delivery.lease_until = now + self.lease
            delivery.lease_owner = self.owner
            db.add(delivery)
        await db.flush()
        return claimed  # type: ignore[return-value]

    async def _send_all(
        self, claimed: list[tuple[WebhookDelivery, Subscription]], now: datetime
    ) -> None:
        """Side by side on PostgreSQL, so one slow receiver does not hold up the rest;
        one after the other on SQLite, whose writers would only queue for its lock."""
        if self.sessions.kw["bind"].dialect.name == "sqlite":
            for delivery, subscription in claimed:
                await self._deliver(delivery, subscription, now)
            return
        await asyncio.gather(*(self._deliver(d, s, now) for d, s in claimed))

    async def _deliver(
        self, delivery: WebhookDelivery, subscription: Subscription, now: datetime
    ) -> None:
        try:
            outcome = await self._post(delivery, subscription, now)
            async with session_scope(self.sessions) as db:
                disabled = await self._settle(db, delivery, subscription, outcome, now)
        except Exception as exc:  # left claimed: tried again when the lease lapses
            # (a subscription deleted meanwhile takes its deliveries with it)
            log.error("webhook delivery %s: %s", delivery.id, type(exc).__name__)
            return
        if disabled is not None and self.on_disabled is not None:
            try:  # once it is stored: the owner is told only of what is so
                await self.on_disabled(disabled)
            except Exception:
                log.exception("telling the owner of webhook %s failed", disabled.id)

    async def _post(
        self, delivery: WebhookDelivery, subscription: Subscription, now: datetime
    ) -> Outcome:
        try:
            self.keys.refresh()  # a rotation by another process
            secret = self.keys.unseal(subscription.secret_sealed)
        except InvalidToken:
            return Outcome(None, "the signing secret cannot be read (its key is gone)", 0)
        signed = headers(secret, message_id(delivery.id), now, delivery.body)
        started = time.perf_counter()
        status_code, error = None, None
        try:
            response = await self.client.post(
                subscription.url, content=delivery.body.encode(), headers=signed
            )
            status_code = response.status_code
            if response.is_redirect:
                error = "the receiver answered with a redirect; redirects are not followed"
            elif not response.is_success:
                error = f"the receiver answered {status_code}"
        except RefusedTarget:
            error = "refused: the address is not a public one"
        except httpx.TimeoutException:
            error = "timed out"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
        duration_ms = round((time.perf_counter() - started) * 1000)
        return Outcome(status_code, error, duration_ms)

    async def _settle(
        self,
        db: AsyncSession,
        delivery: WebhookDelivery,
        subscription: Subscription,
        outcome: Outcome,
        now: datetime,
    ) -> Subscription | None:
        """Log the attempt and its outcome; the subscription if this disabled it."""
        db.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                at=now,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        attempts = delivery.attempts + 1
        values: dict = {"attempts": attempts, "lease_until": None, "lease_owner": None}
        if outcome.ok:
            values |= {"status": DeliveryStatus.DELIVERED, "delivered_at": now}
        elif attempts >= self.policy.max_attempts:
            values |= {"status": DeliveryStatus.FAILED}
        else:
            values |= {"next_attempt_at": now + self.policy.wait(attempts, self.rng)}
        settled = await db.exec(  # type: ignore[call-overload]
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == delivery.id,
                col(WebhookDelivery.lease_owner) == self.owner,
            )
            .values(**values)
        )
        if not settled.rowcount:
            log.warning("webhook delivery %s: the claim lapsed before it was settled", delivery.id)
            return None
        return await self._count_failure(db, subscription, outcome, now)

    async def _count_failure(
        self, db: AsyncSession, subscription: Subscription, outcome: Outcome, now: datetime
    ) -> Subscription | None:
        """Consecutive failures of the subscription: reset by a success; at the limit
        it is disabled (the webhook's record and its owner's history say why) and
        returned, for its owner to be told."""
        failures = 0 if outcome.ok else Subscription.failures + 1
        await db.exec(  # type: ignore[call-overload]
            update(Subscription)
            .where(col(Subscription.id) == subscription.id)
            .values(failures=failures)
        )
        if outcome.ok:
            return None
        current = await db.get(Subscription, subscription.id, populate_existing=True)
        if current is None or not current.active or current.failures < self.policy.disable_after:
            return None
        reason = f"{current.failures} attempts in a row failed; the last: {outcome.error}"
        current.active = False
        current.disabled_at = now
        current.disabled_reason = reason[:500]
        db.add(current)
        audit.record(
            db,
            current.user_id,
            "webhooks.disabled",
            "webhook",
            current.id,
            meta={"url": current.url, "reason": current.disabled_reason},
        )
        log.warning("webhook %s disabled after %d failures", current.id, current.failures)
        return current

    # --- running inside the service ------------------------------------------

    def wake(self) -> None:
        """Look for work now (a test ping was queued)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="webhook-sender")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: log it and try again next round
                log.exception("the webhook sender's round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
