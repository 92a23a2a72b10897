"""The local grammar: sentence templates as data (hassil), loaded once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from hassil import Intents, recognize_best

SENTENCES = Path(__file__).parent / "sentences"

CONTRACTIONS = {
    "what's": "what is",
    "whats": "what is",
    "it's": "it is",
    "that's": "that is",
    "i've": "i have",
    "i'm": "i am",
    "don't": "do not",
    "dont": "do not",
    "can't": "cannot",
    "let's": "let us",
    "i'd": "i would",
    "where's": "where is",
    "when's": "when is",
    "how's": "how is",
    "there's": "there is",
    "didn't": "did not",
    "i'll": "i will",
    "you're": "you are",
    "we've": "we have",
    "we're": "we are",
    "haven't": "have not",
}


def normalize(text: str) -> str:
    """Lower-case, contractions spelled out, sentence punctuation dropped; money and
    times keep their symbols ("$4.50", "3:30")."""
    text = text.strip().lower().replace("’", "'")
    text = re.sub(r"[?!;\"“”]+", " ", text)
    text = re.sub(r"(?<!\d)[.,](?!\d)|[.,]$", " ", text)  # keep 4.50 and 1,200
    words = [CONTRACTIONS.get(word, word) for word in text.split()]
    return " ".join(words)


def load_intents(language: str = "en") -> Intents:
    merged: dict[str, Any] = {
        "language": language,
        "intents": {},
        "lists": {},
        "expansion_rules": {},
    }
    for path in sorted((SENTENCES / language).glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for key in ("intents", "lists", "expansion_rules"):
            merged[key].update(data.get(key) or {})
    return Intents.from_dict(merged)


class Grammar:
    def __init__(self, language: str = "en") -> None:
        self.intents = load_intents(language)

    def match(self, text: str) -> tuple[str, dict[str, str], dict[str, Any]] | None:
        """(intent name, wildcard texts, template metadata) for normalized ``text``."""
        # Templates marked "best" win a tie with looser ones ("remove milk from my
        # shopping list" is about a list, not a calendar).
        result = recognize_best(text, self.intents, language="en", best_metadata_key="best")
        if result is None or result.intent is None:
            return None
        entities = {
            name: str(entity.text if entity.is_wildcard else entity.value).strip()
            for name, entity in result.entities.items()
        }
        return result.intent.name, entities, dict(result.intent_metadata or {})
