"""Named entities from spaCy fill what the templates leave open."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from intents.model import UserContext
from intents.rules import RuleParser

CONTEXT = UserContext(now=datetime(2026, 3, 4, 15, 0, tzinfo=ZoneInfo("America/New_York")))


def test_people_become_attendees(rules: RuleParser) -> None:
    found = rules.parse("schedule a call with John Smith and Maria Lopez tomorrow at 10", CONTEXT)
    assert found is not None
    assert found.slots["attendees"] == ["John Smith", "Maria Lopez"]


def test_an_organisation_is_the_merchant(rules: RuleParser) -> None:
    found = rules.parse("I paid Microsoft 300 dollars", CONTEXT)
    assert found is not None
    assert (found.slots["amount"], found.slots["merchant"]) == ("300", "Microsoft")


def test_a_missing_amount_is_asked_for(rules: RuleParser) -> None:
    found = rules.parse("I spent a lot at Acme Corp", CONTEXT)
    assert found is not None and found.missing == ["amount"]
