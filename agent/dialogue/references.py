"""What was just talked about: remembered after each change, and read back when the
user says "move it", "delete that" or "mark it done"."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from agent.dialogue.state import Last
from intents.model import Intent
from skills.actions import Outcome


def remember(outcome: Outcome) -> Last | None:
    if not outcome.records or not outcome.changed:
        return None
    record = outcome.records[0]
    if "start_at" in record and "title" in record and "id" in record:
        return Last(
            kind="event", id=record["id"], title=record["title"], start_at=record["start_at"]
        )
    if "title" in record and "id" in record:
        return Last(
            kind="task", id=record["id"], title=record["title"], start_at=record.get("due_at")
        )
    if "amount" in record:
        return Last(kind="transaction", id=record["id"], title=record.get("merchant"))
    return None


def dereference(intent: Intent, last: Last | None) -> Intent:
    """``reference.*`` made into the action on what was last talked about, when it fits."""
    if last is None:
        return intent
    kind = last.kind
    if intent.action == "reference.delete":
        name = {"task": "tasks.delete", "event": "calendar.delete"}.get(kind)
        key = "task_id" if kind == "task" else "event_id"
        return replace(
            intent, action=name or intent.action, slots={key: last.id, "title": last.title}
        )
    if intent.action == "reference.complete" and kind == "task":
        return replace(
            intent, action="tasks.complete", slots={"task_id": last.id, "title": last.title}
        )
    if intent.action == "reference.update" and kind in ("task", "event"):
        changes = dict(intent.slots.get("changes") or {})
        said = intent.slots.get("when")
        if said:
            key = "start_at" if kind == "event" else "due_at"
            changes[key] = merge_time(said, last.start_at)
            if kind == "task":
                changes["remind_at"] = changes["due_at"]
        name = "calendar.update" if kind == "event" else "tasks.update"
        key = "event_id" if kind == "event" else "task_id"
        return replace(intent, action=name, slots={key: last.id, "changes": changes})
    return intent


def merge_time(said: dict[str, Any], previous: str | None) -> str:
    """ "Move it to 4 PM" keeps the day; "make that Thursday" keeps the time."""
    at = datetime.fromisoformat(said["at"])
    if previous is None:
        return at.isoformat()
    before = datetime.fromisoformat(previous).astimezone(at.tzinfo)
    if not said["has_day"]:
        at = at.replace(year=before.year, month=before.month, day=before.day)
        if said["has_time"] and not said.get("meridiem") and at.hour < 12:
            # "make that 7" after 6 PM means 7 PM: the reading nearest the old time
            later = at + timedelta(hours=12)
            if abs(later - before) < abs(at - before):
                at = later
    if not said["has_time"]:
        at = at.replace(hour=before.hour, minute=before.minute)
    return at.isoformat()
