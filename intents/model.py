"""What the understanding layer produces, and what it is given about the user."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The public vocabulary (DESIGN.md); "reference.*" are resolved by the agent against
# what was just said, into one of these, before anyone sees them.
VOCABULARY = (
    "tasks.create",
    "tasks.query",
    "tasks.complete",
    "tasks.update",
    "tasks.delete",
    "calendar.create",
    "calendar.query",
    "calendar.update",
    "calendar.delete",
    "calendar.free_time",
    "finance.expense",
    "finance.income",
    "finance.query",
    "finance.recategorize",
    "finance.invoice",
    "finance.job_costing",
    "dialog.yes",
    "dialog.no",
    "dialog.cancel",
    "dialog.undo",
    "dialog.help",
    "out_of_scope",
)


@dataclass
class Intent:
    action: str
    slots: dict[str, Any]
    confidence: float
    source: str  # "rules" (the grammar), "model" (the trained parser) or "llm" (Claude)
    text: str = ""
    missing: list[str] = field(default_factory=list)  # required slots not said yet
    # A guess below the trained parser's confident threshold: to be checked with the
    # user ("Add paint to your shopping list?") before anything is written.
    tentative: bool = False


@dataclass
class UserContext:
    """What a parser may know about the user for this utterance."""

    now: datetime  # aware, in the user's zone
    currency: str = "USD"
    lists: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    merchants: list[str] = field(default_factory=list)  # payees and shops already used
    contacts: list[str] = field(default_factory=list)
    upcoming: list[dict[str, Any]] = field(default_factory=list)  # title, start_at
    recent_turns: list[tuple[str, str]] = field(default_factory=list)  # (role, text)

    @property
    def timezone(self) -> str:
        return str(self.now.tzinfo)
