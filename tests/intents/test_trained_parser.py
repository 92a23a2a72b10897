"""The trained parser: paraphrases the grammar does not match, out-of-scope requests
turned down, the same answer every time, and the cascade's order."""

from __future__ import annotations

import os
import random
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from eval.intents import load_dev_set
from intents.cascade import (
    GRAMMAR_WRITE_DOUBT,
    GUESS_FLOOR,
    MODEL_CONFIDENT,
    OUT_OF_SCOPE_SURE,
    OVERRULED,
    Cascade,
)
from intents.grammar import SENTENCES, normalize
from intents.model import Intent, UserContext
from intents.rules import RuleParser
from intents.trained.build import _prune, fingerprint
from intents.trained.data import OUT_OF_SCOPE, out_of_scope_examples, training_set
from intents.trained.parser import TrainedParser
from intents.trained.train import train_intents

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=ZoneInfo("America/New_York"))
CONTEXT = UserContext(
    now=NOW, lists=["shopping", "costco", "errands"], projects=["kitchen remodel"]
)

# Said the way people talk, in no training sentence; written to be matched by no
# template (the grammar has since learned a few of the money ones).
PARAPHRASES = [
    ("could you stick oat milk on the costco list", "tasks.create"),
    ("toss bread onto my shopping list", "tasks.create"),
    ("I want to remember to call the vet on monday", "tasks.create"),
    ("don't forget to email the accountant friday", "tasks.create"),
    ("gotta renew the car insurance by the 20th", "tasks.create"),
    ("what's coming up for me this week", "calendar.query"),
    ("got anything on thursday", "calendar.query"),
    ("what have I got going on saturday", "calendar.query"),
    ("I dropped 40 bucks at Target", "finance.expense"),
    ("just paid 12 dollars for parking", "finance.expense"),
    ("lunch came to 18 dollars", "finance.expense"),
    ("how much have I blown on dining out this month", "finance.query"),
    ("what did I spend last week", "finance.query"),
    ("what's the damage on groceries so far this month", "finance.query"),
    ("mark off eggs", "tasks.complete"),
    ("finished the quarterly report", "tasks.complete"),
    ("make out an invoice for the kitchen remodel", "finance.invoice"),
    ("how are we doing on the kitchen remodel", "finance.job_costing"),
    ("is there room in my day tomorrow for a 30 minute call", "calendar.free_time"),
    ("scratch the dentist appointment off my calendar", "calendar.delete"),
]
OUT_OF_SCOPE_REQUESTS = [
    "what's the weather going to be in Boise",
    "play some music by Adele",
    "how much does a new roof cost",
    "who wrote Pride and Prejudice",
    "switch the porch light off",  # "turn off the {room} light" is a training template
    "what's two plus two",
    "order a pizza from dominos",
    "text my sister happy birthday",
    "how many calories are in an avocado",
    "what's the best way to learn guitar",
]


@pytest.fixture(scope="module")
def trained(rules: RuleParser) -> TrainedParser:
    parser = TrainedParser(rules.entities)
    parser.warm_up()
    return parser


def test_paraphrases_are_new_to_the_training() -> None:
    seen = {example.text for example in training_set()}
    for text, _ in PARAPHRASES + [(t, OUT_OF_SCOPE) for t in OUT_OF_SCOPE_REQUESTS]:
        assert normalize(text) not in seen, text


async def test_paraphrases_are_understood(rules: RuleParser, trained: TrainedParser) -> None:
    """Through the ladder a user gets: acted on, or checked back, as the right request.
    Measured 15 of 20 (17 before the grammar learned its out-of-scope templates)."""
    cascade = Cascade(rules, trained=trained)
    found = {text: await cascade.parse(text, CONTEXT) for text, _ in PARAPHRASES}
    wrong = [
        f"{text!r}: got {found[text].action} {found[text].confidence}"
        for text, want in PARAPHRASES
        if found[text].action != want
    ]
    assert len(wrong) <= 5, "\n".join(wrong)


def test_paraphrase_slots_are_typed_like_the_grammars(trained: TrainedParser) -> None:
    expense = trained.parse("I dropped 40 bucks at Target", CONTEXT)
    assert expense.slots == {"amount": "40", "merchant": "Target"}
    added = trained.parse("toss bread onto my shopping list", CONTEXT)
    assert added.slots == {"title": "bread", "list": "shopping"}
    reminder = trained.parse("I want to remember to call the vet on monday", CONTEXT)
    assert reminder.slots["title"] == "call the vet"
    assert reminder.slots["due_at"] == "2026-03-09T09:00-04:00"


def test_every_parse_has_a_calibrated_confidence(trained: TrainedParser) -> None:
    for text, _ in PARAPHRASES:
        parsed = trained.parse(text, CONTEXT)
        assert parsed.source == "model" and 0.0 <= parsed.confidence <= 1.0


async def test_out_of_scope_requests_change_nothing(
    rules: RuleParser, trained: TrainedParser
) -> None:
    cascade = Cascade(rules, trained=trained)
    for text in OUT_OF_SCOPE_REQUESTS:
        parsed = await cascade.parse(text, CONTEXT)
        assert parsed.action == OUT_OF_SCOPE, (text, parsed)


def test_the_same_answer_every_time(trained: TrainedParser, tmp_path: Path) -> None:
    first = [trained.parse(text, CONTEXT) for text, _ in PARAPHRASES]
    assert first == [trained.parse(text, CONTEXT) for text, _ in PARAPHRASES]
    assert training_set() == training_set()
    sample = training_set()[::20]
    train_intents(sample, tmp_path / "a.crfsuite")
    train_intents(sample, tmp_path / "b.crfsuite")
    assert (tmp_path / "a.crfsuite").read_bytes() == (tmp_path / "b.crfsuite").read_bytes()


def test_a_changed_template_trains_a_new_model(tmp_path: Path) -> None:
    copy = tmp_path / "sentences"
    for path in SENTENCES.rglob("*.yaml"):
        target = copy / path.relative_to(SENTENCES)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    assert fingerprint(copy) == fingerprint()
    with (copy / "en" / "tasks.yaml").open("a") as extra:
        extra.write("\n# a new phrasing\n")
    assert fingerprint(copy) != fingerprint()


def test_no_dev_sentence_is_written_as_out_of_scope_training() -> None:
    _, cases = load_dev_set()
    written = {example.text for example in training_set() if example.label == OUT_OF_SCOPE}
    written |= {example.text for example in out_of_scope_examples(random.Random(1), 50)}
    assert not written & {normalize(case["text"]) for case in cases}


class Fixed:
    """A trained parser that always gives one answer."""

    def __init__(
        self, action: str, confidence: float, opinion: dict[str, float] | None = None
    ) -> None:
        self.answer = Intent(action, {"title": "x"}, confidence, "model")
        # Its probabilities for a sentence the grammar matched: by default it agrees.
        self.second = opinion
        self.ready = True
        self.calls = 0

    def warm_up(self) -> None: ...

    def opinion(self, text: str, context: UserContext) -> dict[str, float]:
        return self.second or {"tasks.create": 1.0}

    def parse(self, text: str, context: UserContext) -> Intent:
        self.calls += 1
        return self.answer


class Claude:
    def __init__(self) -> None:
        self.calls = 0

    async def parse(self, text: str, context: UserContext) -> Intent:
        self.calls += 1
        return Intent("calendar.create", {}, 0.85, "llm", text=text)


async def test_the_grammar_comes_first(rules: RuleParser) -> None:
    model, claude = Fixed("finance.expense", 0.99), Claude()
    cascade = Cascade(rules, claude, trained=model)  # type: ignore[arg-type]
    parsed = await cascade.parse("add milk to my shopping list", CONTEXT)
    assert (parsed.action, parsed.source, model.calls, claude.calls) == (
        "tasks.create",
        "rules",
        0,
        0,
    )


async def test_a_grammar_match_the_classifier_puts_out_of_scope_is_turned_down(
    rules: RuleParser,
) -> None:
    claude = Claude()
    model = Fixed("tasks.create", 0.99, {OUT_OF_SCOPE: OVERRULED, "tasks.create": 0.2})
    cascade = Cascade(rules, claude, trained=model)  # type: ignore[arg-type]
    parsed = await cascade.parse("add this song to my workout playlist", CONTEXT)
    assert (parsed.action, claude.calls) == (OUT_OF_SCOPE, 0)


async def test_a_disputed_grammar_match_is_not_acted_on_unchecked(rules: RuleParser) -> None:
    model = Fixed(
        "tasks.create", 0.99, {"calendar.query": 0.85, "tasks.create": 0.05, OUT_OF_SCOPE: 0.1}
    )
    guessing = Cascade(rules, trained=model)  # type: ignore[arg-type]
    parsed = await guessing.parse("add milk to my shopping list", CONTEXT)
    assert (parsed.action, parsed.tentative) == ("tasks.create", True)
    claude = Claude()
    asking = Cascade(rules, claude, trained=model)  # type: ignore[arg-type]
    assert (await asking.parse("add milk to my shopping list", CONTEXT)).source == "llm"


async def test_a_match_the_classifier_ranks_a_close_second_stands(rules: RuleParser) -> None:
    model = Fixed("tasks.create", 0.99, {"tasks.query": 0.7, "tasks.create": 0.3})
    cascade = Cascade(rules, trained=model)  # type: ignore[arg-type]
    parsed = await cascade.parse("put eggs on the shopping list", CONTEXT)
    assert (parsed.action, parsed.tentative, parsed.source) == ("tasks.create", False, "rules")


async def test_the_same_verb_in_another_skill_is_read_by_the_classifier(
    rules: RuleParser,
) -> None:
    model = Fixed("tasks.delete", MODEL_CONFIDENT, {"tasks.delete": 0.95, "calendar.delete": 0.0})
    cascade = Cascade(rules, trained=model)  # type: ignore[arg-type]
    parsed = await cascade.parse("cancel the reminder to call the plumber", CONTEXT)
    assert (parsed.action, parsed.source) == ("tasks.delete", "model")


async def test_a_reference_agrees_with_the_request_it_names(rules: RuleParser) -> None:
    model = Fixed("tasks.create", 0.99, {"reference.delete": 0.9, "calendar.delete": 0.1})
    cascade = Cascade(rules, trained=model)  # type: ignore[arg-type]
    parsed = await cascade.parse("cancel my dentist appointment", CONTEXT)
    assert (parsed.action, parsed.tentative) == ("calendar.delete", False)


async def test_a_grammar_write_that_may_be_none_of_ours_is_checked_back(
    rules: RuleParser,
) -> None:
    opinion = {"tasks.create": 1 - GRAMMAR_WRITE_DOUBT, OUT_OF_SCOPE: GRAMMAR_WRITE_DOUBT}
    cascade = Cascade(rules, trained=Fixed("tasks.create", 0.99, opinion))  # type: ignore[arg-type]
    parsed = await cascade.parse("add milk to my shopping list", CONTEXT)
    assert (parsed.action, parsed.source, parsed.tentative) == ("tasks.create", "rules", True)


async def test_a_match_naming_the_users_own_shop_is_theirs_whatever_the_words(
    rules: RuleParser,
) -> None:
    """ "File Hollis under tools" sounds like none of ours to the classifier; but Hollis
    is a shop the user paid, so the grammar's match stands. A shop they never paid
    does not save it."""
    opinion = {"finance.recategorize": 0.05, OUT_OF_SCOPE: 0.9}
    cascade = Cascade(rules, trained=Fixed(OUT_OF_SCOPE, 0.9, opinion))  # type: ignore[arg-type]

    async def theirs(context: UserContext) -> UserContext:
        return replace(context, merchants=["Hollis"])

    parsed = await cascade.parse("file Hollis under tools", CONTEXT, theirs)
    assert (parsed.action, parsed.source) == ("finance.recategorize", "rules")
    assert not parsed.tentative
    stranger = await cascade.parse("file Brantley under tools", CONTEXT, theirs)
    assert stranger.action == OUT_OF_SCOPE


async def test_a_doubtful_match_the_model_reads_as_another_request_is_that_request(
    rules: RuleParser,
) -> None:
    # "move {event} to {when}" matches; the classifier hears a change of category
    opinion = {"finance.recategorize": 0.97, "calendar.update": 0.01, OUT_OF_SCOPE: 0.02}
    model = Fixed("finance.recategorize", MODEL_CONFIDENT, opinion)
    cascade = Cascade(rules, trained=model)  # type: ignore[arg-type]
    parsed = await cascade.parse("move blue bottle to coffee", CONTEXT)
    assert (parsed.action, parsed.source, parsed.tentative) == (
        "finance.recategorize",
        "model",
        False,
    )


async def test_a_confident_model_answers_before_claude(rules: RuleParser) -> None:
    model, claude = Fixed("tasks.create", MODEL_CONFIDENT), Claude()
    cascade = Cascade(rules, claude, trained=model)  # type: ignore[arg-type]
    parsed = await cascade.parse("pop some flour on the list", CONTEXT)
    assert (parsed.source, parsed.tentative, claude.calls) == ("model", False, 0)


async def test_an_unsure_model_asks_claude_when_there_is_a_key(rules: RuleParser) -> None:
    model, claude = Fixed("tasks.create", MODEL_CONFIDENT - 0.01), Claude()
    cascade = Cascade(rules, claude, trained=model)  # type: ignore[arg-type]
    parsed = await cascade.parse("pop some flour on the list", CONTEXT)
    assert (parsed.source, claude.calls) == ("llm", 1)


async def test_without_a_key_an_unsure_parse_is_only_a_guess(rules: RuleParser) -> None:
    model = Fixed("tasks.create", MODEL_CONFIDENT - 0.01)
    guessing = Cascade(rules, trained=model)  # type: ignore[arg-type]
    guess = await guessing.parse("pop some flour on the list", CONTEXT)
    assert (guess.action, guess.tentative, guess.source) == ("tasks.create", True, "model")
    model.answer.confidence = GUESS_FLOOR - 0.01
    too_unsure = await guessing.parse("pop some flour on the list", CONTEXT)
    assert too_unsure.action == OUT_OF_SCOPE


def test_a_build_not_loaded_for_weeks_is_pruned(tmp_path: Path) -> None:
    old, recent, current = tmp_path / "old", tmp_path / "recent", tmp_path / "current"
    for folder in (old, recent, current):
        folder.mkdir()
        (folder / "manifest.json").write_text("{}")
    month_ago = time.time() - 30 * 86400
    os.utime(old / "manifest.json", (month_ago, month_ago))
    _prune(tmp_path, keep=current)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "recent"]


async def test_a_sure_out_of_scope_is_not_sent_to_claude(rules: RuleParser) -> None:
    claude = Claude()
    sure = Cascade(rules, claude, trained=Fixed(OUT_OF_SCOPE, OUT_OF_SCOPE_SURE))  # type: ignore[arg-type]
    assert (await sure.parse("sing me something", CONTEXT)).action == OUT_OF_SCOPE
    assert claude.calls == 0
    unsure = Cascade(rules, claude, trained=Fixed(OUT_OF_SCOPE, OUT_OF_SCOPE_SURE - 0.01))  # type: ignore[arg-type]
    assert (await unsure.parse("sing me something", CONTEXT)).source == "llm"
    assert claude.calls == 1
