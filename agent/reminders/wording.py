"""What a reminder says when it reaches the user."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.dialogue.replies import speak_day
from store.models import Reminder, ReminderKind

# Delivered this long after its time, a reminder says when it was due.
LATE = timedelta(minutes=2)


def clock(moment: datetime) -> str:
    """6:00 PM: minutes always shown, as on a clock face."""
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def _when(moment: datetime, now: datetime) -> str:
    """When, said: "at 6:00 PM" today, "yesterday at 6:00 PM" or "Friday at 6:00 PM"."""
    local = moment.astimezone(now.tzinfo)
    day = speak_day(local.date(), now.date())
    return f"at {clock(local)}" if day == "today" else f"{day} at {clock(local)}"


def notice_text(reminder: Reminder, now: datetime) -> str:
    """``now`` is in the user's zone. "Reminder: call mom." on time; "This was due at
    6:00 PM: call mom." (or "due yesterday at 11:50 PM") when delivered late (the
    service was down)."""
    if reminder.kind == ReminderKind.EVENT and reminder.occurs_at is not None:
        start = reminder.occurs_at
        if start <= now:
            return f"{reminder.title} started {_when(start, now)}."
        minutes = max(1, round((start - now).total_seconds() / 60))
        unit = "minute" if minutes == 1 else "minutes"
        return f"{reminder.title} starts in {minutes} {unit}, {_when(start, now)}."
    if now - reminder.fire_at > LATE:
        return f"This was due {_when(reminder.fire_at, now)}: {reminder.title}."
    return f"Reminder: {reminder.title}."


def missed_text(reminder: Reminder, now: datetime) -> str:
    due = _when(reminder.fire_at, now)
    return f"Missed while the service was down: {reminder.title}, due {due}."
