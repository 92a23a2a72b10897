"""Reminder actions for the conversation: "snooze ten minutes", "remind me tomorrow
instead", said right after a reminder."""

from __future__ import annotations

import uuid
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from skills.access import Capability
from skills.actions import Action, Outcome
from skills.context import SkillContext
from skills.reminders.service import ReminderService
from skills.types import CalendarTime

DEFAULT_SNOOZE = timedelta(minutes=10)


class Snooze(BaseModel):
    """Which reminder (the last one delivered when not said) and until when
    (ten minutes from now when not said)."""

    model_config = ConfigDict(extra="forbid")

    reminder_id: uuid.UUID | None = None
    until: CalendarTime | None = Field(default=None, description="When to remind again")


async def snooze_reminder(ctx: SkillContext, args: Snooze) -> Outcome:
    until = args.until or ctx.now() + DEFAULT_SNOOZE
    again = await ReminderService(ctx).snooze(args.reminder_id, until)
    facts = {"title": again.title, "until": again.fire_at}
    return Outcome("reminders.snooze", facts, [{"id": str(again.id), "fire_at": str(until)}])


REMINDER_ACTIONS = [
    Action(
        "reminders.snooze",
        "Remind again later of the reminder just delivered (snooze).",
        Snooze,
        snooze_reminder,
        needs=Capability.LISTS_EDIT,  # a reminder is a task's (or an event's) alert
        replies={"snoozed": "Okay, I'll remind you again {when}."},
        proposals=("Remind you again {when}?",),
        questions={"until": "When should I remind you again?"},
    ),
]
