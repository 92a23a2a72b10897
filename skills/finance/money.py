"""Amounts and currencies: ISO 4217 codes and each currency's own decimal places."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

from skills.context import SkillError
from store.types import EXACT_LIMIT, exact

# The largest amount one transaction, price or budget may have: a hundredth of what a
# column holds, so that totals over many of them still fit one.
MAX_AMOUNT = EXACT_LIMIT / 100
_PLAIN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def currency_code(value: str) -> str:
    code = value.strip().upper()
    if code not in known_currencies():
        raise SkillError(f"{value!r} is not a currency I know (use an ISO 4217 code like USD)")
    return code


def places(currency: str) -> int:
    return get_currency_precision(currency)


def plain_decimal(text: str) -> Decimal:
    """A number written out in digits ("1234.56", "-0.5"). Exponent notation ("1E+30"),
    NaN and Infinity are refused rather than read: they are never what a person meant."""
    cleaned = text.strip()
    if not _PLAIN.fullmatch(cleaned):
        if re.search(r"\d\s*[eE]\s*[+-]?\s*\d", cleaned):
            raise ValueError(f"{text!r} is in exponent notation: write the amount out in digits")
        raise ValueError(f"{text!r} is not an amount: write it in digits, like 1234.56")
    return Decimal(cleaned)


def exact_number(value: object) -> Decimal:
    """An amount or quantity from a request, as the API models read it: JSON numbers
    (floats, whose shortest text is what was sent), integers, or digit strings; never
    more than a column stores exactly, so a huge or odd value is a 422, not a 500."""
    if isinstance(value, bool):
        raise ValueError("a number is needed here, not true or false")
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif isinstance(value, str):
        value = plain_decimal(value)
    elif not isinstance(value, (int, Decimal)):
        raise ValueError(f"{value!r} is not a number")
    return exact(value)


def amount_in(value: Decimal | str | int, currency: str, *, positive: bool = True) -> Decimal:
    """Validate an amount for ``currency``: exact, not more decimals than the currency
    has (JPY none, USD two, BHD three), and positive where a direction is given elsewhere."""
    if isinstance(value, float):
        raise SkillError("amounts must be exact decimals, not floating point")
    try:
        amount = value if isinstance(value, Decimal) else plain_decimal(str(value).replace(",", ""))
    except ValueError as exc:
        raise SkillError(str(exc)) from exc
    if not amount.is_finite():
        raise SkillError(f"{value!r} is not an amount")
    if abs(amount) >= MAX_AMOUNT:  # before quantizing, which fails on 1e30 itself
        raise SkillError(f"that amount is too large (it must be less than {MAX_AMOUNT:,})")
    digits = places(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        raise SkillError(f"{currency} amounts have at most {digits} decimal places, not {amount}")
    if positive and amount <= 0:
        raise SkillError("the amount must be more than zero (say whether it is spent or earned)")
    return amount


def rounded(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit, as an invoice shows it."""
    return amount.quantize(Decimal(1).scaleb(-places(currency)), rounding=ROUND_HALF_UP)


def spoken(amount: Decimal, currency: str, locale: str = "en_US") -> str:
    """ "$42.50", "¥1,200": how a reply says an amount."""
    return format_currency(amount, currency, locale=locale.replace("-", "_"))
