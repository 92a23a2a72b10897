"""The trained parser: what the exact grammar did not match, read statistically.

It always answers, with the calibrated chance that the intent is right; the cascade
decides what that chance is good for. Slot words found by the tagger go through the
same resolvers as the grammar's, so times and amounts come out typed the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from intents.entities import Entities
from intents.model import Intent, UserContext
from intents.slots import resolve
from intents.trained.build import shared_model
from intents.trained.data import OUT_OF_SCOPE, split_label, tokenize
from intents.trained.features import gazetteer, gazetteer_tags
from intents.trained.model import TrainedModel, spans

# Slots without which a parse is more likely a misreading than a request: without
# them the resolver would act on an empty title. Such a parse counts as half as sure.
NEEDS = {
    "tasks.complete": "item",
    "tasks.update": "target",
    "tasks.delete": "target",
    "calendar.update": "event",
    "calendar.delete": "event",
    "finance.recategorize": "category",
}


class TrainedParser:
    def __init__(
        self,
        entities: Entities | None = None,
        model: Callable[[], TrainedModel] = shared_model,
    ) -> None:
        self.entities = entities or Entities()
        self._load = model
        self._model: TrainedModel | None = None

    @property
    def ready(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> TrainedModel:
        if self._model is None:
            self._model = self._load()
        return self._model

    def warm_up(self) -> None:
        """Load (or, once per version of the templates, train: ~30 s) the models."""
        _ = self.model

    def parse(self, text: str, context: UserContext) -> Intent:
        tokens = tokenize(text)
        if not tokens:
            return Intent(OUT_OF_SCOPE, {}, 1.0, "model", text=text)
        model = self.model
        marks = gazetteer_tags(tokens, gazetteer(_names(context)))
        label, score = model.intents.best(tokens, marks)
        chance = round(model.calibration(score), 3)
        action, meta = split_label(label)
        if action == OUT_OF_SCOPE:
            return Intent(OUT_OF_SCOPE, {}, chance, "model", text=text)
        found = spans(tokens, model.slots.tag(tokens, marks, label))
        needed = NEEDS.get(action)
        if needed is not None and needed not in found and not meta.get("all"):
            chance = round(chance / 2, 3)
        slots, missing = resolve(action, found, {**meta, "_text": text}, context)
        self.entities.enrich(action, text, slots, missing)
        return Intent(action, slots, chance, "model", text=text, missing=missing)

    def opinion(self, text: str, context: UserContext) -> dict[str, float]:
        """The classifier's probability of each action (a template variant's share
        added to its action's), as a second opinion on a grammar match."""
        tokens = tokenize(text)
        if not tokens:
            return {OUT_OF_SCOPE: 1.0}
        marks = gazetteer_tags(tokens, gazetteer(_names(context)))
        shares: dict[str, float] = {}
        for label, score in self.model.intents.scores(tokens, marks).items():
            action = split_label(label)[0]
            shares[action] = shares.get(action, 0.0) + score
        return shares


def _names(context: UserContext) -> dict[str, list[str]]:
    return {
        "list": context.lists,
        "project": context.projects,
        "category": context.categories,
        "merchant": [*context.merchants, *context.contacts],
    }
