"""Amounts and currencies: ISO 4217 codes and each currency's own decimal places."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

from skills.context import SkillError


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


def amount_in(value: Decimal | str | int, currency: str, *, positive: bool = True) -> Decimal:
    """Validate an amount for ``currency``: exact, not more decimals than the currency
    has (JPY none, USD two, BHD three), and positive where a direction is given elsewhere."""
    if isinstance(value, float):
        raise SkillError("amounts must be exact decimals, not floating point")
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise SkillError(f"{value!r} is not an amount") from exc
    if not amount.is_finite():
        raise SkillError(f"{value!r} is not an amount")
    digits = places(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        raise SkillError(f"{currency} amounts have at most {digits} decimal places, not {amount}")
    if positive and amount <= 0:
        raise SkillError("the amount must be more than zero (say whether it is spent or earned)")
    if abs(amount) >= Decimal("1e12"):
        raise SkillError("that amount is too large")
    return amount


def rounded(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit, as an invoice shows it."""
    return amount.quantize(Decimal(1).scaleb(-places(currency)), rounding=ROUND_HALF_UP)


def spoken(amount: Decimal, currency: str, locale: str = "en_US") -> str:
    """ "$42.50", "¥1,200": how a reply says an amount."""
    return format_currency(amount, currency, locale=locale.replace("-", "_"))
