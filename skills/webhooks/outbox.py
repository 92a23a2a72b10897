"""The outbox: a delivery row for each subscription a change concerns, added to the
same flush as the audit row that records the change.

Every action writes its audit row (skills/history.py) in the transaction of the
change; a ``before_flush`` listener turns each new audit row's changes into
deliveries there and then. So a change that rolls back leaves no delivery, and one
that commits cannot lose its delivery in a crash: the sender picks it up from the
table whenever it next runs. Undo sends the changes it made (the undone ones
backwards). Reminder firings are not audited: the scheduler enqueues them itself
(``reminder_fired``), in the transaction that records the delivery.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, event, or_
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from skills.access import Scope, can
from skills.webhooks.events import READ_NEEDS, Change, derive, inverted
from store.models import AuditEntry, Membership, Reminder, TaskList, WebhookDelivery
from store.models import WebhookSubscription as Subscription

# Kept out of a reminder's payload: how the scheduler tracks it, not what it says.
_REMINDER_INTERNALS = {"lease_until", "lease_owner", "twilio_sid", "fallback_after"}


def install() -> None:
    """Listen on every session (idempotent): the composition root calls this once."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


async def reminder_fired(
    session: AsyncSession, reminder: Reminder, channel: str | None, at: datetime
) -> None:
    """Enqueue ``reminder.fired``: the reminder reached its owner through ``channel``."""
    row = reminder.model_dump(mode="json", exclude=_REMINDER_INTERNALS)
    row |= {"status": "delivered", "channel": channel, "delivered_at": at.isoformat()}
    change = Change("reminder.fired", "reminders", row)
    await session.run_sync(lambda sync: enqueue(sync, reminder.user_id, [change], at))


def enqueue(session: Session, actor_id: uuid.UUID, changes: list[Change], at: datetime) -> None:
    """Add a delivery for every active subscription that wants and may see a change."""
    audiences = [_audience(session, change) for change in changes]
    owners = {owner for owned, _ in audiences for owner in owned}
    households = {household for _, household in audiences if household is not None}
    subscriptions = _subscriptions(session, owners, households)
    roles = _roles(session, [s for s in subscriptions if s.household_id is not None])
    for change, (owned, household) in zip(changes, audiences, strict=True):
        for subscription in subscriptions:
            if change.type in subscription.events and _may_see(
                subscription, change, owned, household, roles
            ):
                session.add(_delivery(subscription, actor_id, change, at))


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    entries = sorted(
        (row for row in session.new if isinstance(row, AuditEntry)), key=lambda e: e.at
    )
    for entry in entries:
        changes = [c for c in map(derive, _changes_of(session, entry)) if c is not None]
        if changes:
            enqueue(session, entry.user_id, changes, entry.at)


def _changes_of(session: Session, entry: AuditEntry) -> list[dict[str, Any]]:
    if entry.action != "undo":
        return list(entry.meta.get("changes") or [])
    undone = session.get(AuditEntry, uuid.UUID(entry.meta["undid"]))
    return inverted(undone.meta.get("changes") or []) if undone is not None else []


def _audience(session: Session, change: Change) -> tuple[set[uuid.UUID], uuid.UUID | None]:
    """Whose own row it is, and the household it is shared with. An item on a list
    belongs with the list: the list's owner and household receive it too."""
    row = change.row
    # Every table a change reaches has an owner; a row without one goes to nobody.
    owners = {uuid.UUID(str(row["user_id"]))} if row.get("user_id") else set()
    household = row.get("household_id")
    if change.table == "tasks" and row.get("list_id"):
        on = session.get(TaskList, uuid.UUID(row["list_id"]))
        if on is not None:
            owners.add(on.user_id)
            household = on.household_id
    return owners, uuid.UUID(str(household)) if household else None


def _subscriptions(
    session: Session, owners: set[uuid.UUID], households: set[uuid.UUID]
) -> list[Subscription]:
    personal = and_(col(Subscription.household_id).is_(None), col(Subscription.user_id).in_(owners))
    shared = col(Subscription.household_id).in_(households) if households else None
    wanted = or_(personal, shared) if shared is not None else personal
    found = session.execute(select(Subscription).where(col(Subscription.active), wanted))
    return list(found.scalars())


def _roles(session: Session, subscriptions: Iterable[Subscription]) -> dict[tuple, Any]:
    """Each household subscriber's role there now (a member who left sees nothing)."""
    pairs = {(s.household_id, s.user_id) for s in subscriptions}
    if not pairs:
        return {}
    households = {household for household, _ in pairs}
    users = {user for _, user in pairs}
    found = session.execute(
        select(Membership).where(
            col(Membership.household_id).in_(households), col(Membership.user_id).in_(users)
        )
    )
    return {(m.household_id, m.user_id): m.role for m in found.scalars()}


def _may_see(
    subscription: Subscription,
    change: Change,
    owners: set[uuid.UUID],
    household: uuid.UUID | None,
    roles: dict[tuple, Any],
) -> bool:
    if subscription.household_id is None:
        return subscription.user_id in owners
    needs = READ_NEEDS.get(change.table)
    if needs is None or subscription.household_id != household:
        return False
    role = roles.get((subscription.household_id, subscription.user_id))
    return can(role, needs, Scope.SHARED)


def _delivery(
    subscription: Subscription, actor_id: uuid.UUID, change: Change, at: datetime
) -> WebhookDelivery:
    body = {
        "type": change.type,
        "timestamp": at.isoformat(),
        "actor_id": str(actor_id),
        "data": change.row,
    }
    return WebhookDelivery(
        subscription_id=subscription.id,
        user_id=subscription.user_id,
        event_type=change.type,
        body=json.dumps(body, separators=(",", ":")),
        next_attempt_at=at,
    )
