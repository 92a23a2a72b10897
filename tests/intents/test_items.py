"""Several things in one breath: where one item ends and the next begins."""

from __future__ import annotations

import pytest

from intents.items import split_items

THINGS = [
    ("eggs, bread and milk", ["eggs", "bread", "milk"]),
    ("eggs bread and milk", ["eggs", "bread", "milk"]),  # as speech to text writes it
    ("toilet paper and paper towels", ["toilet paper", "paper towels"]),
    ("apple juice and crackers", ["apple juice", "crackers"]),
    ("mac and cheese and apple juice", ["mac and cheese", "apple juice"]),
    ("a phone charger and a toothbrush", ["phone charger", "toothbrush"]),
    ("salt, pepper, and olive oil", ["salt", "pepper", "olive oil"]),
    ("milk", ["milk"]),
    ("half and half", ["half and half"]),
]
TO_DO = [
    ("buy stamps and mail the package", ["buy stamps", "mail the package"]),
    ("call mom and dad", ["call mom and dad"]),
    ("pick up Tom and Jerry", ["pick up Tom and Jerry"]),
]


@pytest.mark.parametrize(("said", "items"), THINGS)
def test_things_to_buy_or_pack(said: str, items: list[str]) -> None:
    assert split_items(said, things=True) == items


@pytest.mark.parametrize(("said", "items"), TO_DO)
def test_things_to_do_split_only_before_a_verb(said: str, items: list[str]) -> None:
    assert split_items(said, things=False) == items
