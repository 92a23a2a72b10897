"""Amounts as people say them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from intents.money import find_money
from intents.numbers import digits_for_words

CASES = [
    ("$4.50", "4.50", None),
    ("$4", "4", None),
    ("twelve bucks", "12", None),
    ("forty two dollars and ten cents", "42.10", None),
    ("forty-two dollars", "42", None),
    ("twelve fifty", "12.50", None),
    ("1,200", "1200", None),
    ("1,200.75", "1200.75", None),
    ("€20", "20", "EUR"),
    ("20 euros", "20", "EUR"),
    ("£5.99", "5.99", "GBP"),
    ("five pounds", "5", "GBP"),
    ("1200 yen", "1200", "JPY"),
    ("50 cents", "0.50", None),
    ("seventy five cents", "0.75", None),
    ("three dollars twenty five", "3.25", None),
    ("a hundred and five dollars", "105", None),
    ("two hundred fifty dollars", "250", None),
    ("one thousand two hundred dollars", "1200", None),
    ("spent $12.99 at target", "12.99", None),
]


@pytest.mark.parametrize(("said", "amount", "currency"), CASES)
def test_amounts(said: str, amount: str, currency: str | None) -> None:
    found = find_money(said, bare=True)
    assert found is not None
    assert found.amount == Decimal(amount)
    assert found.currency == currency


def test_bare_numbers_need_a_money_context() -> None:
    assert find_money("buy 2 apples") is None
    assert find_money("buy 2 apples", bare=True).amount == Decimal(2)


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("forty two", "42"),
        ("twelve fifty", "12 50"),
        ("a hundred and five", "105"),
        ("one and two", "1 and 2"),
        ("the twenty-first", "the 21st"),
        ("wait a minute", "wait a minute"),
        ("at 3:30", "at 3:30"),
        ("on the 15th", "on the 15th"),
    ],
)
def test_spelled_numbers(said: str, digits: str) -> None:
    assert digits_for_words(said) == digits
