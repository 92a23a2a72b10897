"""Amounts of money as people say them: "$4.50", "twelve bucks", "forty two dollars
and ten cents", "twelve fifty", "1,200", "€20"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from intents.numbers import digits_for_words

SYMBOLS = {"$": None, "€": "EUR", "£": "GBP", "¥": "JPY"}
WORDS = {
    "dollar": None,
    "dollars": None,
    "buck": None,
    "bucks": None,
    "usd": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    "gbp": "GBP",
    "yen": "JPY",
    "jpy": "JPY",
    "cad": "CAD",
    "aud": "AUD",
}
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CURRENCY_WORD = "|".join(sorted(WORDS, key=len, reverse=True))
PATTERNS = [
    # $42.50, € 20, $12 50 ("twelve fifty")
    re.compile(rf"(?P<sym>[$€£¥])\s?(?P<num>{_NUMBER})(?:\s(?P<cents>\d{{2}})(?!\d))?"),
    # 42 dollars and 10 cents, 42 dollars 10
    re.compile(
        rf"(?P<num>{_NUMBER})\s(?P<word>{_CURRENCY_WORD})\b"
        rf"(?:\s(?:and\s)?(?P<cents>\d{{1,2}})(?:\scents?)?\b)?"
    ),
    # 50 cents
    re.compile(r"(?P<only_cents>\d{1,2})\scents?\b"),
    # twelve fifty, 1,200, 4.50: a bare amount where the grammar expects one
    re.compile(rf"(?P<num>{_NUMBER})(?:\s(?P<cents>\d{{2}})(?!\d))?"),
]


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str | None  # None: the user's own currency ("dollars", "$", "bucks")
    start: int
    end: int


def find_money(text: str, *, bare: bool = False) -> Money | None:
    """The first amount in ``text`` (already lower-case or not). Bare numbers count
    only with ``bare=True``, where the sentence is known to be about money."""
    normalized = digits_for_words(text)
    for index, pattern in enumerate(PATTERNS):
        if index == len(PATTERNS) - 1 and not bare:
            break
        match = pattern.search(normalized)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("only_cents"):
            cents = (Decimal(groups["only_cents"]) / 100).quantize(Decimal("0.01"))
            return Money(cents, None, match.start(), match.end())
        amount = Decimal(groups["num"].replace(",", ""))
        if groups.get("cents"):
            if "." in groups["num"]:
                continue
            amount = (amount + Decimal(groups["cents"]) / 100).quantize(Decimal("0.01"))
        symbol = groups.get("sym")
        currency = SYMBOLS[symbol] if symbol else WORDS.get(groups.get("word") or "")
        return Money(amount, currency, match.start(), match.end())
    return None
