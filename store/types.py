"""Column types that keep the store's promises on every backend.

SQLite has no time zones and no exact decimals, so these decorators make both
backends behave the same: datetimes go in and come out as aware UTC, and money
is stored as an exact integer count of ten-thousandths.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

DECIMAL_PLACES = 4
_SCALE = Decimal(10) ** DECIMAL_PLACES
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)
# A BigInteger holds every 18-digit integer and DECIMAL_PLACES of those digits are
# the fraction: every value an ExactDecimal column can hold is below this.
EXACT_LIMIT = Decimal(10) ** (18 - DECIMAL_PLACES)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC; naive values are refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: times must carry a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite drops the offset; everything stored is UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as an integer of ten-thousandths, exact on every backend.

    Four places cover every ISO 4217 currency (at most three minor digits) and
    fractional quantities; sums in SQL stay exact integers.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money and quantities are Decimal, never float")
        return int(exact(value) * _SCALE)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return from_scaled(value)


def exact(value: Any) -> Decimal:
    """``value`` as a Decimal that an ExactDecimal column stores exactly; anything it
    cannot (not finite, out of range, too many places) is a ValueError saying why."""
    if isinstance(value, float):
        raise ValueError(f"{value} is floating point; money and quantities are exact decimals")
    try:
        amount = Decimal(value)
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if not amount.is_finite():
        raise ValueError(f"{value} is not a number")
    if abs(amount) >= EXACT_LIMIT:  # checked first: quantizing 1e30 itself fails
        raise ValueError(f"{value} is out of range (the largest is {EXACT_LIMIT - _QUANTUM:,})")
    if amount != amount.quantize(_QUANTUM):
        raise ValueError(f"{amount} has more than {DECIMAL_PLACES} decimal places")
    return amount


_CENTS = Decimal("0.01")


def from_scaled(value: int | Decimal) -> Decimal:
    """Turn a stored (or SQL-summed) integer of ten-thousandths back into a Decimal,
    written with two places when that is exact ("80.10", not "80.1000")."""
    amount = (Decimal(int(value)) / _SCALE).quantize(_QUANTUM)
    cents = amount.quantize(_CENTS)
    return cents if cents == amount else amount


def utcnow() -> datetime:
    return datetime.now(UTC)


class EnumText(TypeDecorator[StrEnum]):
    """A string enum stored as plain text (no database enum types to migrate), read
    back as the enum member."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 20) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


class EncodedJSON(dict):  # type: ignore[type-arg]
    """A JSON column's value whose text was written beforehand, in a worker thread: the
    engine's serializer (``dumps_json``) stores ``text`` as it is instead of encoding
    the whole value again on the event loop. Make it with ``encode_json``; do not
    change it afterwards (the text would no longer match)."""

    def __init__(self, value: dict[str, Any], text: str) -> None:
        super().__init__(value)
        self.text = text


def dumps_json(value: Any) -> str:
    """The engine's JSON serializer: what ``json.dumps`` gives, or an EncodedJSON's text."""
    return value.text if isinstance(value, EncodedJSON) else json.dumps(value)


async def encode_json(value: dict[str, Any]) -> EncodedJSON:
    """``value`` with its JSON text written in a worker thread. One ``json.dumps`` call
    holds the GIL until it ends (0.65 s for an import's 15 MB audit row), so the text is
    built from many small calls, between which the event loop gets to run."""
    text = await asyncio.to_thread(_encode, value, 2)
    return EncodedJSON(value, text)


def _encode(value: Any, depth: int) -> str:
    if depth and isinstance(value, dict):
        items = (f"{json.dumps(str(k))}: {_encode(v, depth - 1)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if depth and isinstance(value, list | tuple):
        return "[" + ", ".join(_encode(item, depth - 1) for item in value) + "]"
    return json.dumps(value)
