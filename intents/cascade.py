"""Rules first; Claude only for what the rules are not sure of, and only with a key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from intents.model import Intent, UserContext
from intents.rules import RuleParser

CONFIDENT = 0.9


class IntentParser(Protocol):
    async def parse(self, text: str, context: UserContext) -> Intent | None: ...


class Cascade:
    def __init__(self, rules: RuleParser, llm: IntentParser | None = None) -> None:
        self.rules = rules
        self.llm = llm

    async def parse(
        self,
        text: str,
        context: UserContext,
        enrich: Callable[[UserContext], Awaitable[UserContext]] | None = None,
    ) -> Intent:
        """``enrich`` adds what only Claude reads (lists, projects, upcoming events):
        the rules do not need it, so the fast path does not pay for those queries."""
        found = self.rules.parse(text, context)
        if found is not None and (found.confidence >= CONFIDENT or self.llm is None):
            return found
        if self.llm is not None:
            full = await enrich(context) if enrich is not None else context
            guessed = await self.llm.parse(text, full)
            if guessed is not None:
                return guessed
        if found is not None:
            return found
        return Intent("out_of_scope", {}, 0.0, "rules", text=text)
