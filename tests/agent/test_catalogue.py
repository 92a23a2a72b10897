"""One definition per action: the sentence files, the parsers' vocabulary, the
dialogue's questions and the spoken replies all agree with the skills' catalogue."""

from __future__ import annotations

from datetime import date, datetime
from string import Formatter
from typing import Any
from zoneinfo import ZoneInfo

from agent.dialogue.replies import SPEAKERS, describe
from eval.intents import load_dev_set
from intents.grammar import Grammar
from intents.model import DIALOG, OUT_OF_SCOPE, REFERENCES, UserContext, vocabulary
from intents.rules import RuleParser
from intents.slots import RESOLVERS
from skills.actions import Outcome
from skills.catalogue import build_catalogue

catalogue = build_catalogue()
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=ZoneInfo("America/Chicago"))
SPOKEN = {"when", "amount", "minutes", "count", "noun", "new_list"}  # beyond the arguments


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def test_sentence_files_name_exactly_the_catalogue_and_the_dialogue() -> None:
    in_sentences = set(Grammar().intents.intents)
    assert in_sentences - set(vocabulary()) - set(REFERENCES) == set()  # nothing unknown
    assert set(catalogue.names()) - in_sentences == set()  # every action can be said
    assert set(DIALOG) <= in_sentences
    assert vocabulary() == (*catalogue.names(), *DIALOG, OUT_OF_SCOPE)
    assert set(RESOLVERS) == set(catalogue.names()) | {"reference.update"}


def test_every_action_has_its_wording() -> None:
    assert set(SPEAKERS) == set(catalogue.names())
    for action in catalogue:
        assert action.replies and action.proposals, action.name
        arguments = set(action.args.model_fields)
        for proposal in action.proposals:
            assert proposal.endswith("?")
            assert _fields(proposal) <= arguments | SPOKEN, (action.name, proposal)
        for question in action.questions.values():
            assert question.endswith("?") and not _fields(question)


# One outcome per reply variant a speaker can choose: each is worded by its action.
OUTCOMES: list[tuple[str, dict[str, Any]]] = [
    ("tasks.create", {"title": "milk", "list": "shopping"}),
    ("tasks.create", {"title": "run", "due_at": NOW, "recurrence": "FREQ=DAILY"}),
    ("tasks.create", {"title": "call mom", "remind_at": NOW}),
    ("tasks.create", {"title": "taxes"}),
    ("tasks.query", {"count": 1, "titles": ["milk"], "list": "shopping"}),
    ("tasks.query", {"count": 2, "titles": ["a", "b"], "list": None}),
    ("tasks.query", {"count": 0, "titles": [], "list": "shopping"}),
    ("tasks.query", {"count": 0, "titles": [], "list": None}),
    ("tasks.complete", {"title": "run", "next_due": NOW}),
    ("tasks.complete", {"title": "taxes", "next_due": None}),
    ("tasks.update", {"title": "taxes", "changed": ["due_at"], "due_at": NOW}),
    ("tasks.update", {"title": "taxes", "changed": ["title"], "due_at": None}),
    ("tasks.delete", {"count": 1, "titles": ["milk"]}),
    ("tasks.delete", {"count": 3, "titles": ["a", "b", "c"]}),
    ("calendar.create", {"title": "Lunch", "start_at": NOW, "conflicts_with": ["Gym"]}),
    ("calendar.create", {"title": "Yoga", "start_at": NOW, "recurrence": "FREQ=WEEKLY"}),
    ("calendar.query", {"events": [{"title": "Gym", "start_at": NOW, "all_day": False}]}),
    ("calendar.query", {"events": []}),
    ("calendar.query", {"events": [], "text": "dentist"}),
    ("calendar.update", {"title": "Gym", "start_at": NOW}),
    ("calendar.update", {"title": "Gym", "start_at": NOW, "changed": ["alert_minutes"],
                         "alert_minutes": 90}),
    ("calendar.delete", {"title": "Gym", "occurrence": NOW}),
    ("calendar.delete", {"title": "Gym"}),
    ("calendar.free_time", {"slots": [{"start_at": NOW}]}),
    ("calendar.free_time", {"slots": []}),
    ("finance.recategorize", {"merchant": "Shell", "category": "Fuel", "count": 3}),
    ("finance.recategorize", {"merchant": "Shell", "category": "Fuel", "count": 1}),
    ("finance.invoice", {"number": "INV-1", "client": "Acme", "total": "10", "currency": "USD",
                         "due_on": date(2026, 3, 20)}),
    ("finance.invoice", {"number": "INV-1", "client": None, "total": "10", "currency": "USD",
                         "due_on": date(2026, 3, 20)}),
    ("reminders.snooze", {"title": "call mom", "until": NOW.replace(minute=10)}),
]  # fmt: skip
OUTCOMES += [
    (name, {"amount": "4.50", "merchant": merchant, "category": category})
    for name in ("finance.expense", "finance.income")
    for merchant in ("Blue Bottle", None)
    for category in ("Coffee", "Other", None)
]
OUTCOMES += [
    ("finance.query", {"total": "40", "currency": "USD", "start": "2026-03-01", "end": "2026-03-05",
                       "kind": kind, "category": category,
                       "top": [{"name": "A", "total": 1}, {"name": "B", "total": 2}]})
    for kind in ("expense", "income")
    for category in ("Dining", None)
]  # fmt: skip
OUTCOMES += [
    ("finance.job_costing", {"project": "Kitchen", "currency": "USD", "revenue": "10", "costs": "5",
                             "margin_percent": margin, "budget_used_percent": budget})
    for margin in (50, None)
    for budget in (20, None)
]  # fmt: skip


def test_every_reply_variant_is_the_catalogues_and_every_template_is_spoken() -> None:
    used: set[tuple[str, str]] = set()
    for name, facts in OUTCOMES:
        variants, _ = SPEAKERS[name](facts, NOW)
        used |= {(name, variant) for variant in variants}
        spoken = describe(Outcome(name, facts), NOW, catalogue)
        assert spoken.endswith((".", "!")) and "{" not in spoken and "None" not in spoken, spoken
    declared = {(action.name, variant) for action in catalogue for variant in action.replies}
    assert used == declared  # no template unused, none missing


def test_what_the_grammar_reads_fits_the_actions_and_what_it_lacks_is_asked(
    rules: RuleParser,
) -> None:
    now, cases = load_dev_set()
    context = UserContext(now=now)
    checked = 0
    for case in cases:
        found = rules.parse(case["text"], context)
        if found is None or found.action not in catalogue:
            continue
        action = catalogue[found.action]
        for slot in found.missing:
            assert slot in action.questions, (case["text"], slot)
        if not found.missing:
            action.args.model_validate(found.slots)  # the arguments as the grammar reads them
            checked += 1
    assert checked >= 200
