"""Every action the skills offer, in one catalogue."""

from __future__ import annotations

from skills.actions import Catalogue
from skills.calendar.actions import CALENDAR_ACTIONS
from skills.finance.actions import FINANCE_ACTIONS
from skills.reminders.actions import REMINDER_ACTIONS
from skills.tasks.actions import TASK_ACTIONS


def build_catalogue() -> Catalogue:
    return Catalogue([*TASK_ACTIONS, *CALENDAR_ACTIONS, *FINANCE_ACTIONS, *REMINDER_ACTIONS])
