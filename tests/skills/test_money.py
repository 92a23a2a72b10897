"""The one check every amount, quantity and budget passes: digits only, in range."""

from __future__ import annotations

from decimal import Decimal

import pytest

from skills.context import SkillError
from skills.finance.money import MAX_AMOUNT, amount_in, exact_number, plain_decimal
from store.types import EXACT_LIMIT, exact


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1E+30", "exponent notation"),
        ("1e999999", "exponent notation"),
        ("2.5e3", "exponent notation"),
        ("NaN", "not an amount"),
        ("Infinity", "not an amount"),
        ("12abc", "not an amount"),
        ("", "not an amount"),
    ],
)
def test_only_numbers_written_in_digits(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plain_decimal(text)


def test_digits_read_exactly() -> None:
    assert plain_decimal(" -4.50 ") == Decimal("-4.50")
    assert plain_decimal(".5") == Decimal("0.5")
    assert exact_number(4.1) == Decimal("4.1")  # a JSON number's shortest text
    assert exact_number("12") == Decimal(12)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1e30, "out of range"),
        (float("inf"), "not a number"),
        (float("nan"), "not a number"),
        (EXACT_LIMIT, "out of range"),
        ("0.00001", "more than 4 decimal places"),
        (True, "not true or false"),
        ([1], "not a number"),
    ],
)
def test_what_a_column_cannot_hold_is_refused(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        exact_number(value)


def test_the_column_limit_follows_its_precision() -> None:
    largest = EXACT_LIMIT - Decimal("0.0001")
    assert exact(largest) == largest
    assert int(largest * 10**4) == 10**18 - 1  # the most a BigInteger holds in 18 digits
    assert MAX_AMOUNT * 100 == EXACT_LIMIT


@pytest.mark.parametrize(
    "value", [Decimal("1e30"), Decimal("1e999999"), "1e30", MAX_AMOUNT, Decimal("NaN")]
)
def test_amounts_too_large_or_odd_are_skill_errors(value: object) -> None:
    with pytest.raises(SkillError):
        amount_in(value, "USD")  # type: ignore[arg-type]
    assert amount_in(MAX_AMOUNT - Decimal("0.01"), "USD") == MAX_AMOUNT - Decimal("0.01")
