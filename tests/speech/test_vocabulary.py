"""The user's own names: which turns are heard again with them in mind."""

from __future__ import annotations

from speech.vocabulary import mentions, near_names, prompt_text

NAMES = ["Kroger", "Brightwater", "Siobhan's birthday", "Zanzibar trip"]


def test_a_sound_alike_of_a_name_calls_for_it() -> None:
    assert near_names("Add milk to my Kruger list.", NAMES) == ["Kroger"]
    assert near_names("long $40 at bright water.", NAMES) == ["Brightwater"]
    assert near_names("and cake to the shivon's birthday list", NAMES) == ["Siobhan's birthday"]
    # A name heard as more words than it has ("Zanzibar trip" as "Zans of our trip").
    assert near_names("Add sunscreen to the Zans of our trip list.", NAMES) == ["Zanzibar trip"]


def test_a_turn_with_no_name_in_it_is_left_alone() -> None:
    assert near_names("Remind me to call mom tomorrow at six.", NAMES) == []
    assert near_names("yes", NAMES) == []
    assert near_names("", NAMES) == []


def test_a_name_already_heard_as_written_needs_no_second_hearing() -> None:
    assert near_names("Add milk to my kroger list", NAMES) == []
    assert mentions("Long $40 at Brightwater.", ["Kroger", "Brightwater"])
    assert not mentions("long 40 dollars at bright water.", ["Brightwater"])
    assert not mentions("Krogers", ["Kroger"])  # a word, not a piece of one


def test_the_prompt_says_each_name_once() -> None:
    assert prompt_text(["Kroger", " Zanzibar  trip", "Kroger", ""]) == "Kroger, Zanzibar trip"
