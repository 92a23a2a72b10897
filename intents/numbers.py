"""Spelled-out numbers, as speech-to-text writes them: "forty two", "twelve fifty",
"a hundred and five", "one thousand two hundred"."""

from __future__ import annotations

import re

UNITS = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
NUMBER_WORDS = set(UNITS) | set(TENS) | set(SCALES) | {"a", "and"}
# Words, and numbers written with digits kept whole: "3:30", "15th", "1,200", "4/1", "9am".
_WORD = re.compile(r"\d+(?:[.,:/\-]\d+)*(?:st|nd|rd|th|am|pm)?|[a-z]+(?:[-'.][a-z]+)*\.?|\S")


def words_to_number(words: list[str]) -> int | None:
    """["forty", "two"] → 42; ["a", "hundred", "and", "five"] → 105; None if not a number."""
    total = current = 0
    seen = False
    for word in words:
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in ("thousand", "million"):
            total += max(current, 1) * SCALES[word]
            current = 0
        elif word == "a" and not seen:
            current = 1
            continue
        elif word == "and" and seen:
            continue
        else:
            return None
        seen = True
    return total + current if seen else None


def _ordinal(word: str) -> int | None:
    if word in ORDINALS:
        return ORDINALS[word]
    if "-" in word:
        head, tail = word.split("-", 1)
        if head in TENS and tail in ORDINALS:
            return TENS[head] + ORDINALS[tail]
    return None


def digits_for_words(text: str) -> str:
    """Rewrite runs of number words as digits: "at five thirty pm" → "at 5 30 pm",
    "the twenty-first" → "the 21st". Runs are split where speech would pause a
    number: "twelve fifty" → "12 50" (a price or a time, decided later)."""
    words = _WORD.findall(text.lower())
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        ordinal = _ordinal(word)
        if ordinal is not None:
            out.append(f"{ordinal}{_suffix(ordinal)}")
            i += 1
            continue
        head = word.split("-")[0]
        if head in UNITS or head in TENS or (word == "a" and _next_is_scale(words, i)):
            run, j = _number_run(words, i)
            if run:
                out.extend(str(n) for n in run)
                i = j
                continue
        out.append(word)
        i += 1
    return _join(out)


def _next_is_scale(tokens: list[str], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1] in SCALES


def _number_run(tokens: list[str], i: int) -> tuple[list[int], int]:
    """Numbers starting at tokens[i]: "forty two" is one, "twelve fifty" two (a unit
    or a teen ends a number unless a scale word follows)."""
    numbers: list[int] = []
    group: list[str] = []
    while i < len(tokens):
        words = tokens[i].split("-")
        if not all(w in NUMBER_WORDS for w in words):
            break
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if words[0] == "a" and following not in SCALES:
            break
        # "and" joins only after a scale: "a hundred and five", not "one and two"
        if words[0] == "and" and not (
            group and group[-1] in SCALES and (following in UNITS or following in TENS)
        ):
            break
        if group and words[0] not in SCALES and words[0] != "and" and _closes(group):
            numbers.append(words_to_number(group) or 0)
            group = []
        group.extend(words)
        i += 1
    value = words_to_number(group) if group else None
    if value is not None:
        numbers.append(value)
    return numbers, i


def _closes(group: list[str]) -> bool:
    """A unit or a teen ends a number ("twelve | fifty"); "forty" may still take "two"."""
    return group[-1] not in SCALES and group[-1] not in TENS and group[-1] not in ("and", "a")


def _suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _join(tokens: list[str]) -> str:
    text = " ".join(tokens)
    text = re.sub(r"\s+([,.!?%])", r"\1", text)
    text = re.sub(r"([$€£])\s+", r"\1", text)
    return re.sub(r"\s*'\s*", "'", text)
