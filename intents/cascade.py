"""Rules first; Claude only for what the rules are not sure of, and only with a key."""

from __future__ import annotations

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

    async def parse(self, text: str, context: UserContext) -> Intent:
        found = self.rules.parse(text, context)
        if found is not None and (found.confidence >= CONFIDENT or self.llm is None):
            return found
        if self.llm is not None:
            guessed = await self.llm.parse(text, context)
            if guessed is not None:
                return guessed
        if found is not None:
            return found
        return Intent("out_of_scope", {}, 0.0, "rules", text=text)
