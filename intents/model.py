"""What the understanding layer produces, and what it is given about the user."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

# The conversation's own words; every other intent is an action of the skills'
# catalogue. "reference.*" are resolved by the agent against what was just said,
# into one of these, before anyone sees them.
DIALOG = ("dialog.yes", "dialog.no", "dialog.cancel", "dialog.undo", "dialog.help")
OUT_OF_SCOPE = "out_of_scope"
REFERENCES = ("reference.update", "reference.delete", "reference.complete")


@functools.cache
def action_schemas() -> dict[str, type[BaseModel]]:
    """The skills' action names and argument models: the parsers' vocabulary. Read on
    first use, so importing the understanding layer does not load the skills."""
    from skills.catalogue import build_catalogue

    return {action.name: action.args for action in build_catalogue()}


@functools.cache
def writing_actions() -> frozenset[str]:
    """The intents that change something: every action that does more than look, and
    the references to what was just said (which resolve into one)."""
    from skills.catalogue import build_catalogue

    return frozenset(
        [*(action.name for action in build_catalogue() if not action.reads_only), *REFERENCES]
    )


def vocabulary() -> tuple[str, ...]:
    """The public intent vocabulary (DESIGN.md): what a parse may name."""
    return (*sorted(action_schemas()), *DIALOG, OUT_OF_SCOPE)


def __getattr__(name: str) -> object:
    if name == "VOCABULARY":
        return vocabulary()
    raise AttributeError(name)


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
