"""The rule parser: grammar match, then slot reading; sub-millisecond when warm."""

from __future__ import annotations

from intents.entities import Entities
from intents.grammar import Grammar, normalize
from intents.model import Intent, UserContext
from intents.slots import resolve

MATCHED, INCOMPLETE = 0.95, 0.75


class RuleParser:
    def __init__(self, grammar: Grammar | None = None, entities: Entities | None = None) -> None:
        self.grammar = grammar or Grammar()
        self.entities = entities or Entities()

    def parse(self, text: str, context: UserContext) -> Intent | None:
        normalized = normalize(text)
        if not normalized:
            return None
        found = self.grammar.match(normalized)
        if found is None:
            return None
        action, spans, meta = found
        slots, missing = resolve(action, spans, {**meta, "_text": text}, context)
        self.entities.enrich(action, text, slots, missing)
        confidence = MATCHED if not missing else INCOMPLETE
        return Intent(action, slots, confidence, "rules", text=text, missing=missing)

    def warm_up_all(self) -> None:
        """Load the grammar, dateparser and the trained parser's models before the first
        user speaks (training those, the first time, takes ~30 s). spaCy is left out:
        only a few sentences need its entities (a name after "with", a merchant the
        template missed), and it costs about a second and ~90 MB, so the first such
        sentence loads it (`warm_up_entities` loads it now)."""
        from datetime import UTC, datetime

        from intents.temporal import warm_up as warm_temporal
        from intents.trained.build import shared_model

        warm_temporal()
        shared_model()
        self.warm_up(UserContext(now=datetime.now(UTC)))

    def warm_up_entities(self) -> None:
        self.entities.warm_up()

    def warm_up(self, context: UserContext) -> None:
        for sample in (
            "add milk to my shopping list",
            "remind me to call mom tomorrow at 6",
            "I spent $4.50 at Blue Bottle",
            "what do I have next Tuesday at 10",
        ):
            self.parse(sample, context)
