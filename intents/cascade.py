"""One ladder for understanding: the exact grammar, then the trained parser when it is
confident (of a request, or that it is none of ours), then Claude when a key is set,
then the trained parser's guess (to be checked with the user), then "not something I do"."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Protocol

from intents.model import Intent, UserContext, writing_actions
from intents.rules import RuleParser
from intents.trained.parser import TrainedParser

CONFIDENT = 0.9  # a grammar match this sure, once the classifier has reviewed it, is acted on
# Calibrated chance that the trained parser's intent is right (eval.parser prints the
# reliability table): at or above it the parse is acted on like a grammar match.
MODEL_CONFIDENT = 0.8
# The trained parser's "none of ours" is trusted when more likely right than not: a
# request it turns down would be turned down without Claude anyway, and asking Claude
# about every chat and weather question would cost a round trip each (eval.intents:
# SLURP's tuning half sends 22 % of turns on at 0.5, 44 % at 0.8, for 6 in 187 requests).
OUT_OF_SCOPE_SURE = 0.5
# The trained parser's writes are always checked back (the dialogue asks); a grammar
# match that would change something is only as sure as a disputed one while the
# classifier gives "none of ours" this much: out-of-scope requests never write
# (eval.intents: SLURP's check half wrote twice without it; at 0.2 two dev turns of 371
# are checked back, at 0.05 eleven).
GRAMMAR_WRITE_DOUBT = 0.2
# Below MODEL_CONFIDENT but at or above this, the parse is a guess worth checking:
# returned with ``tentative`` set, and the dialogue asks before acting on it.
GUESS_FLOOR = 0.45
# The grammar's match is only as sure as the trained parser lets it be: its wildcards
# swallow anything ("find {duration}" takes "find a definition"). When the classifier
# gives "none of ours" at least this probability, the match is set aside (eval.intents,
# tuning halves: of grammar matches the classifier put at 0.8 or more out of scope,
# none was right); when it prefers another request, the match is only DISPUTED: a
# grammar match the classifier agrees with is right 98.6 % of the time, one it
# disputes 71 %, so a disputed one goes to Claude or is checked back before it acts.
OVERRULED = 0.8
DISPUTED = 0.8
# ... and only when the classifier gives the matched request less than this: on the
# tuning halves it gave most wrong matches it disputed under a tenth, and most right
# ones more (it ranks "put eggs on the shopping list" a look at the list, a close second).
DOUBT = 0.1
# The grammar's verbs are shared between skills ("cancel the reminder to call the
# dentist" matches the calendar's "cancel {event}"): when the classifier is this sure
# of the same verb in another skill, its own parse is read instead of the match.
SIBLING = 0.9


class NeedsRemote(Exception):
    """Understanding these words needs Claude, and the caller asked for local parsers
    only (a rehearsal of a turn that has not ended calls no outside service)."""


class IntentParser(Protocol):
    async def parse(self, text: str, context: UserContext) -> Intent | None: ...


class Cascade:
    def __init__(
        self,
        rules: RuleParser,
        llm: IntentParser | None = None,
        trained: TrainedParser | None = None,
    ) -> None:
        self.rules = rules
        self.llm = llm
        self.trained = trained or TrainedParser(rules.entities)

    async def warm_up(self) -> None:
        await asyncio.to_thread(self.trained.warm_up)

    async def parse(
        self,
        text: str,
        context: UserContext,
        enrich: Callable[[UserContext], Awaitable[UserContext]] | None = None,
        *,
        local_only: bool = False,
    ) -> Intent:
        """``enrich`` adds the user's own names (lists, projects, upcoming events): the
        grammar does not need them, so its fast path does not pay for those queries.
        With ``local_only``, a parse that would ask Claude raises `NeedsRemote` instead.

        A parse that nobody is sure of comes back ``tentative``: the dialogue asks the
        user before acting on it, so the one threshold that decides lives here."""
        found = self.rules.parse(text, context)
        if found is not None and _second_opinion(found):
            if not self.trained.ready:
                await self.warm_up()
            opinion = self.trained.opinion(text, context)
            if _sibling(found.action, opinion):
                found = None
            elif (reviewed := self._reviewed(found, opinion)) is not found:
                # Doubted only as maybe none of ours: a match that names the user's own
                # shop, project, category or contact ("file Hollis under tools", Hollis
                # a shop they paid) is theirs.
                if enrich is not None and self._reviewed(found, _ours_only(opinion)) is found:
                    context = await enrich(context)
                    enrich = None  # asked once
                    reviewed = found if _names_own(found, context) else reviewed
                found = reviewed
        if found is not None and found.confidence >= CONFIDENT:
            return found
        if found is not None and found.action == "out_of_scope":
            return found
        full = await enrich(context) if enrich is not None else context
        if not self.trained.ready:  # the first time only: load off the event loop
            await self.warm_up()
        guess = self.trained.parse(text, full)
        if found is not None:
            # A doubtful match that the trained parser surely reads as another request
            # ("move Blue Bottle to coffee" matched as moving an event) is that request.
            if guess.action not in (found.action, "out_of_scope") and guess.confidence >= (
                MODEL_CONFIDENT
            ):
                return guess
            if self.llm is None:
                return replace(found, tentative=True)
            guess = None
        else:
            sure = OUT_OF_SCOPE_SURE if guess.action == "out_of_scope" else MODEL_CONFIDENT
            if guess.confidence >= sure:
                return guess
        if self.llm is not None:
            if local_only:
                raise NeedsRemote(text)
            answered = await self.llm.parse(text, full)
            if answered is not None:
                return answered
        if found is not None:
            return replace(found, tentative=True)
        if guess is not None and guess.action != "out_of_scope" and guess.confidence >= GUESS_FLOOR:
            return replace(guess, tentative=True)
        confidence = guess.confidence if guess and guess.action == "out_of_scope" else 0.0
        return Intent("out_of_scope", {}, confidence, "model" if guess else "rules", text=text)

    @staticmethod
    def _reviewed(found: Intent, opinion: dict[str, float]) -> Intent:
        """The grammar's match in the light of the classifier's probabilities."""
        rejected = opinion.get("out_of_scope", 0.0)
        if rejected >= OVERRULED and "amount" not in found.slots:  # money said is ours
            return Intent("out_of_scope", {}, round(rejected, 3), "model", text=found.text)
        if not opinion:  # no view: the match stands
            return found
        preferred = max(opinion, key=opinion.__getitem__)
        doubted = opinion.get(found.action, 0.0) < DOUBT
        if doubted and not _agree(preferred, found.action):
            return replace(found, confidence=min(found.confidence, DISPUTED))
        if found.action in writing_actions() and rejected >= GRAMMAR_WRITE_DOUBT:
            return replace(found, confidence=min(found.confidence, DISPUTED))
        return found


def _ours_only(opinion: dict[str, float]) -> dict[str, float]:
    return {action: p for action, p in opinion.items() if action != "out_of_scope"}


def _names_own(found: Intent, context: UserContext) -> bool:
    """Whether a slot of the match is one of the user's own distinctive names: a
    project, a category, a shop or payee, a contact (a list's name, "shopping", is
    a common word that other requests say too)."""
    names = (context.projects, context.categories, context.merchants, context.contacts)
    own = {name.lower() for kind in names for name in kind}
    return any(isinstance(value, str) and value.lower() in own for value in found.slots.values())


def _second_opinion(found: Intent) -> bool:
    """The conversation's own words (yes, cancel, help) and the grammar's own "not
    ours" are taken as said; a request to act or to look something up is reviewed."""
    return not found.action.startswith("dialog.") and found.action != "out_of_scope"


def _sibling(matched: str, opinion: dict[str, float]) -> bool:
    """The classifier is sure of the matched verb in another skill (tasks.delete for
    calendar.delete)."""
    if not opinion:
        return False
    preferred = max(opinion, key=opinion.__getitem__)
    family, _, verb = preferred.partition(".")
    return (
        opinion[preferred] >= SIBLING
        and family in ("tasks", "calendar", "finance")
        and preferred != matched
        and matched.rpartition(".")[2] == verb
    )


def _agree(preferred: str, matched: str) -> bool:
    """ "Delete yoga tomorrow" read as reference.delete agrees with calendar.delete: a
    reference names what is meant, not a different request."""
    if preferred.startswith("reference."):
        return matched.rpartition(".")[2] == preferred.rpartition(".")[2]
    return preferred == matched
