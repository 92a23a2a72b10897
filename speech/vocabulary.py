"""The user's own names in recognition: a list called "Okonkwo deck", a merchant
"Tartine". Whisper writes a name it does not know as a sound-alike ("Tarty", "bright
water"); told of the name first (in its prompt) it writes it right.

Telling Whisper of every name on every turn costs: it starts writing names nobody
said ("Sunscreen, Tartine, Zibar trip list") and the longer prompt slows each decode.
So the plain transcript comes first, and only when part of it is spelled nearly like
one of the names is the turn decoded again with those names in the prompt; that
hearing is taken only if it contains one of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz

# 0–100: how alike a stretch of the transcript and a name must be spelled (letters
# only) to be worth a second decode; "tarty"/"tartine" is 67, "bright water" 100.
NEAR = 60
MOST_NAMES = 5  # names in the second decode's prompt: the nearest ones


def near_names(text: str, vocabulary: Sequence[str]) -> list[str]:
    """The names a stretch of `text` is spelled nearly like and not exactly, nearest first."""
    words = _letters(text).split()
    scored = []
    for name in dict.fromkeys(vocabulary):
        plain = _letters(name)
        size = len(plain.split())
        if not plain or mentions(text, [name]):
            continue
        # A sound-alike may take a word fewer than the name or up to two more
        # ("Zanzibar trip" heard as "Zans of our trip").
        spans = [
            "".join(words[i : i + n])
            for n in range(max(1, size - 1), size + 3)
            for i in range(len(words) - n + 1)
        ]
        best = max((fuzz.ratio(plain.replace(" ", ""), span) for span in spans), default=0.0)
        if best >= NEAR:
            scored.append((best, name))
    return [name for _score, name in sorted(scored, key=lambda s: -s[0])[:MOST_NAMES]]


def mentions(text: str, names: Sequence[str]) -> bool:
    """Does `text` say one of `names` as written (case and punctuation aside)?"""
    said = f" {_letters(text)} "
    return any(f" {_letters(name)} " in said for name in names if _letters(name))


def prompt_text(names: Sequence[str]) -> str:
    """The names as one line for Whisper's prompt, each once."""
    return ", ".join(dict.fromkeys(" ".join(n.split()) for n in names if n.strip()))


def _letters(text: str) -> str:
    return " ".join(re.sub(r"[^\w']+", " ", text.lower()).replace("'", "").split())
