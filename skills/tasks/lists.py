"""Matching a spoken list name to one of the user's lists.

"groceries", "the grocery list" and "my groceries" all mean the list "Grocery list":
names are compared by their key words in singular form, then by fuzzy similarity.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping

from rapidfuzz import fuzz, process

from store.models import TaskList

_FILLER = {"list", "lists", "the", "my", "our", "a", "to", "do", "todo"}
_MIN_SIMILARITY = 85


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ss") or len(word) <= 3:
        return word
    return word.removesuffix("s")


def list_key(name: str) -> str:
    words = re.findall(r"[a-z0-9']+", name.lower().replace("to-do", "todo"))
    kept = [_singular(w) for w in words if w not in _FILLER]
    return " ".join(kept) or " ".join(words)


def display_name(spoken: str) -> str:
    """How a new list is named from what was said: "my Shopping list" → "shopping"."""
    return list_key(spoken) or spoken.strip().lower()


def prefer_own(lists: Iterable[TaskList], user_id: uuid.UUID) -> list[TaskList]:
    """One's own lists before shared ones: matching takes the first of equals."""
    return sorted(lists, key=lambda item: item.user_id != user_id)


def best_match(
    spoken: str, lists: Iterable[TaskList], aliases: Mapping[uuid.UUID, str] | None = None
) -> TaskList | None:
    """The first list whose name (or alias, such as "Family shopping" for a shared
    list) has the spoken key words; else the most similar, if similar enough."""
    candidates = {item.id: item for item in lists}
    if not candidates:
        return None
    wanted = list_key(spoken)
    names = [(item_id, item.name) for item_id, item in candidates.items()]
    names += [
        (item_id, alias) for item_id, alias in (aliases or {}).items() if item_id in candidates
    ]
    for item_id, name in names:
        if list_key(name) == wanted:
            return candidates[item_id]
    keys = {index: list_key(name) for index, (_, name) in enumerate(names)}
    found = process.extractOne(wanted, keys, scorer=fuzz.WRatio, score_cutoff=_MIN_SIMILARITY)
    return candidates[names[found[2]][0]] if found else None
