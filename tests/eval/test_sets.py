"""The evaluation sets: the blind set covers the vocabulary, the halves are fixed and
apart, and a parse is judged by the slot shapes the blind set's header promises."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from eval.sets import (
    CHECK,
    TUNE,
    half_of,
    load_blind,
    load_dev,
    load_slurp,
    slots_match,
    slurp_path,
    text_key,
)
from intents.model import VOCABULARY

EACH_INTENT = 5


def test_blind_set_covers_every_intent_and_out_of_scope() -> None:
    blind = load_blind()
    counts = Counter(case.expect[0] for case in blind.cases)
    assert len(blind.cases) >= 320
    assert set(counts) == set(VOCABULARY)
    assert min(counts.values()) >= EACH_INTENT, counts.most_common()[-3:]
    assert counts["out_of_scope"] >= 40


def test_blind_set_is_apart_from_the_dev_set_and_has_no_repeats() -> None:
    blind = [text_key(case.text) for case in load_blind().cases]
    dev = {text_key(case.text) for case in load_dev().cases}
    assert len(set(blind)) == len(blind)
    assert not set(blind) & dev


def test_split_is_fixed_by_the_seed() -> None:
    # Moving a sentence between halves would let the check half be tuned on.
    assert [
        half_of(text_key(t)) for t in ("add eggs bread and milk", "Add eggs, bread and milk!")
    ] == [TUNE, TUNE]
    assert half_of(text_key("move my dentist appointment to 2pm")) == CHECK
    assert half_of(text_key("lunch was 18")) == TUNE
    assert half_of(text_key("tell me a joke")) == CHECK


def test_blind_halves_are_disjoint_and_both_cover_finance_and_out_of_scope() -> None:
    blind = load_blind()
    tune, check = blind.half(TUNE), blind.half(CHECK)
    assert len(tune.cases) + len(check.cases) == len(blind.cases)
    assert not {text_key(c.text) for c in tune.cases} & {text_key(c.text) for c in check.cases}
    for half in (tune, check):
        intents = Counter(case.expect[0] for case in half.cases)
        assert intents["finance.expense"] >= 15 and intents["out_of_scope"] >= 20


def test_blind_slots_are_plain_values() -> None:
    """An unquoted date in YAML becomes a date object and would never match a parse."""

    def plain(value: Any) -> bool:
        if isinstance(value, dict):
            return all(plain(v) for v in value.values())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return isinstance(value, str | int | bool)

    assert all(plain(case.slots) for case in load_blind().cases if case.slots)


def test_dev_set_is_not_split() -> None:
    assert {case.half for case in load_dev().cases} == {TUNE}


@pytest.mark.skipif(slurp_path() is None, reason="slurp-devel.jsonl is not beside the checkout")
def test_slurp_split_skips_unscored_and_is_disjoint() -> None:
    path = slurp_path()
    assert path is not None
    slurp = load_slurp(path)
    assert 1800 < len(slurp.cases) < 2033  # alarms and date questions (expect: null) left out
    halves = {which: {text_key(c.text) for c in slurp.half(which).cases} for which in (TUNE, CHECK)}
    assert not halves[TUNE] & halves[CHECK]
    assert min(len(h) for h in halves.values()) > 800
    assert slurp.half(CHECK).cases == load_slurp(path).half(CHECK).cases


def test_slot_matching_follows_the_blind_sets_shapes() -> None:
    assert slots_match({"due_at": "2026-03-06"}, {"due_at": "2026-03-06T09:00-05:00"})
    assert not slots_match({"due_at": "2026-03-06"}, {"due_at": "2026-03-07T09:00-05:00"})
    assert slots_match({"amount": "12.50"}, {"amount": "12.5"})
    assert not slots_match({"amount": "350"}, {"amount": "3.50"})
    assert slots_match({"merchant": "Blue Bottle"}, {"merchant": "blue bottle", "amount": "4"})
    assert slots_match({"items": ["eggs", "bread"]}, {"items": ["Eggs", "bread"]})
    assert not slots_match({"items": ["eggs", "bread"]}, {"title": "eggs and bread"})
    assert slots_match({"items": ["mac and cheese"]}, {"title": "mac and cheese"})
    assert slots_match({"changes": {"priority": 3}}, {"changes": {"priority": 3, "title": "x"}})
    assert not slots_match({"all": True}, {})
