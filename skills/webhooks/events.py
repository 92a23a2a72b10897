"""The event types a subscription can ask for, derived from the rows an action
changed (the audit row's before/after snapshots), and who may receive each.

The one list of names is ``EVENT_TYPES``; the API validates against it and the
derivation below only ever returns its members (tests/skills/test_webhook_events.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skills.access import Capability

# Every event a subscription may name, with what it means.
EVENT_TYPES: dict[str, str] = {
    "task.created": "a task or list item was added",
    "task.updated": "a task was changed",
    "task.completed": "a task was completed",
    "task.deleted": "a task was removed",
    "event.created": "a calendar event was added",
    "event.updated": "a calendar event was changed",
    "event.cancelled": "a calendar event, or one occurrence of it, was cancelled",
    "transaction.created": "an expense or income was recorded",
    "invoice.sent": "an invoice was sent",
    "invoice.paid": "an invoice was marked paid",
    "reminder.fired": "a reminder reached its owner",
}
TEST_EVENT = "webhook.test"  # the ping a user sends to check their receiver

# A household subscription sees a shared row only if the subscriber's role there
# lets them read its kind; rows of other tables are never shared.
READ_NEEDS: dict[str, Capability] = {
    "tasks": Capability.LISTS_READ,
    "events": Capability.CALENDAR_READ,
    "transactions": Capability.MONEY_READ,
}


@dataclass(frozen=True)
class Change:
    """One event to deliver: its type, and the row as it is now (as it was, if gone)."""

    type: str
    table: str
    row: dict[str, Any]


def derive(change: dict[str, Any]) -> Change | None:
    """The event one audited row change makes, if it makes one."""
    table, before, after = change["table"], change["before"], change["after"]
    kind = _DERIVE.get(table)
    found = kind(before, after) if kind else None
    if found is None:
        return None
    return Change(found, table, after if after is not None else before)


def inverted(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What undoing ``changes`` did to the rows: each change backwards, last first."""
    return [
        {**change, "before": change["after"], "after": change["before"]}
        for change in reversed(changes)
    ]


def _task(before: dict | None, after: dict | None) -> str | None:
    if before is None:
        return "task.created"
    if after is None:
        return "task.deleted"
    if after.get("status") == "done" and before.get("status") != "done":
        return "task.completed"
    return "task.updated"


def _event(before: dict | None, after: dict | None) -> str | None:
    if before is None:
        return "event.created"
    if after is None or len(after.get("exdates") or []) > len(before.get("exdates") or []):
        return "event.cancelled"
    return "event.updated"


def _transaction(before: dict | None, after: dict | None) -> str | None:
    return "transaction.created" if before is None and after is not None else None


def _invoice(before: dict | None, after: dict | None) -> str | None:
    status = (after or {}).get("status")
    if status in ("sent", "paid") and (before or {}).get("status") != status:
        return f"invoice.{status}"
    return None


_DERIVE = {
    "tasks": _task,
    "events": _event,
    "transactions": _transaction,
    "invoices": _invoice,
}
