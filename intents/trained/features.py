"""Features for the intent classifier (a bag of words, word pairs and word pieces) and
for the slot tagger (each word, its shape and neighbours, and the user's own names)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NUMBER_WORDS = words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred thousand half dozen"
)
TIME_WORDS = words(
    "today tonight tomorrow yesterday morning afternoon evening night noon midnight am pm "
    "monday tuesday wednesday thursday friday saturday sunday weekend week month year "
    "january february march april may june july august september october november december "
    "minutes minute hour hours every next last this later"
)
MONEY_WORDS = words("dollars dollar bucks cents euros pounds yen quid")
Gazetteer = dict[str, frozenset[tuple[str, ...]]]  # kind → names as word tuples


def shape(word: str) -> str:
    if word.startswith(("$", "€", "£")):
        return "money"
    if re.fullmatch(r"\d+(?:[.,:]\d+)*(?:am|pm|st|nd|rd|th)?", word):
        return "digits"
    if word in NUMBER_WORDS:
        return "number"
    if word in MONEY_WORDS:
        return "currency"
    if word in TIME_WORDS:
        return "time"
    return "word"


def gazetteer(names: dict[str, Iterable[str]]) -> Gazetteer:
    return {
        kind: frozenset(tuple(name.lower().split()) for name in found if name.strip())
        for kind, found in names.items()
    }


def gazetteer_tags(tokens: Sequence[str], names: Gazetteer) -> list[set[str]]:
    """For each word, which of the user's names it starts or continues ("B-list")."""
    marks: list[set[str]] = [set() for _ in tokens]
    for kind, known in names.items():
        for size in {len(name) for name in known}:
            for start in range(len(tokens) - size + 1):
                if tuple(tokens[start : start + size]) in known:
                    marks[start].add(f"B-{kind}")
                    for inside in range(start + 1, start + size):
                        marks[inside].add(f"I-{kind}")
    return marks


def sentence_features(tokens: Sequence[str], marks: Sequence[set[str]]) -> dict[str, float]:
    """The bag the intent classifier reads: words, pairs, word pieces, shapes, names."""
    words = ["<s>", *tokens, "</s>"]
    features: dict[str, float] = {}
    for i, word in enumerate(words):
        kind = shape(word) if 0 < i < len(words) - 1 else word
        features[f"w={word if kind == 'word' else kind}"] = 1.0
        if i:
            previous = shape(words[i - 1])
            left = words[i - 1] if previous == "word" else previous
            features[f"p={left}_{word if kind == 'word' else kind}"] = 1.0
        if kind == "word" and 0 < i < len(words) - 1 and len(word) > 3:
            padded = f"<{word}>"
            for piece in range(len(padded) - 3):
                features[f"c={padded[piece : piece + 4]}"] = 1.0
    for mark in set().union(*marks) if marks else ():
        features[f"g={mark}"] = 1.0
    features["len"] = min(len(tokens), 12) / 12
    return features


def token_features(
    tokens: Sequence[str], marks: Sequence[set[str]], intent: str
) -> list[dict[str, float]]:
    """Per word, for the slot tagger; the intent is known before slots are read."""
    rows = []
    for i, word in enumerate(tokens):
        row = {"bias": 1.0, f"intent={intent}": 1.0, f"w={word}": 1.0, f"s={shape(word)}": 1.0}
        row[f"iw={intent}:{word}"] = 1.0
        row[f"suf={word[-3:]}"] = 1.0
        for offset in (-2, -1, 1, 2):
            at = i + offset
            near = tokens[at] if 0 <= at < len(tokens) else ("<s>" if at < 0 else "</s>")
            row[f"w{offset:+d}={near}"] = 1.0
            row[f"s{offset:+d}={shape(near)}"] = 1.0
        if i:
            row[f"pair-={tokens[i - 1]}_{word}"] = 1.0
        if i + 1 < len(tokens):
            row[f"pair+={word}_{tokens[i + 1]}"] = 1.0
        row[f"first={i == 0}"] = 1.0
        for mark in marks[i]:
            row[f"g={mark}"] = 1.0
        rows.append(row)
    return rows
