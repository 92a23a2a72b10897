"""The understanding harness's own parts: the write check sees a write and nothing
else, the stand-in for Claude records what a key would send, and the reliability
table bins parses by confidence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.services import Services, build_assistant
from agent.settings import Settings
from eval.intents import AskedParser, Harness
from eval.reliability import reliability
from eval.sets import Case, EvalSet, load_dev
from eval.writes import count_writes, seeded_user
from store import migrate
from tests.fake_trained import Unplaced


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    built = Services.build(Settings(data_dir=tmp_path, database_url=None, anthropic_api_key=None))
    await migrate.upgrade(built.engine)
    yield built
    await built.close()


async def test_write_check_names_the_turn_that_wrote_and_only_it(services: Services) -> None:
    assistant = services.assistant
    assert assistant is not None
    user = await seeded_user(assistant)
    said = ["tell me a joke", "add paint to my hardware store list", "what's the weather"]
    writes = await count_writes(assistant, services.engine, user, said, "test")
    assert writes.turns == 3 and not writes.failed
    assert [text for text, _ in writes.wrote] == ["add paint to my hardware store list"]
    assert "tasks" in writes.wrote[0][1]


async def test_only_what_the_local_path_cannot_place_would_go_to_claude(
    services: Services,
) -> None:
    asker = AskedParser()
    cascade = build_assistant(services, llm=asker).parser  # type: ignore[arg-type]
    cascade.trained = Unplaced()  # type: ignore[assignment]
    cases = [
        Case("add milk to my shopping list", ("tasks.create",), {"title": "milk"}),
        Case("blorp the zingle quux", ("out_of_scope",)),
    ]
    known, stranger = await Harness(cascade, asker, services).parse_all(
        EvalSet("two", load_dev().now, cases)
    )
    assert known.right and known.slots_right and not known.asked
    assert stranger.asked and stranger.right  # nobody answered: out of scope
    assert asker.asked == 1


@dataclass
class Judged:
    action: str
    confidence: float
    right: bool


def test_reliability_bins_acting_parses_by_confidence() -> None:
    parsed = [
        Judged("tasks.create", 0.97, True),
        Judged("tasks.create", 0.96, False),
        Judged("finance.expense", 0.6, True),
        Judged("out_of_scope", 0.2, True),  # rejecting does not act: not binned
    ]
    table = reliability(parsed)
    assert [(b.low, b.turns, b.accuracy) for b in table.bins] == [(0.5, 1, 1.0), (0.95, 2, 0.5)]
    assert table.acting == 3
    assert table.calibration_error == pytest.approx((0.4 + 2 * abs(0.965 - 0.5)) / 3)
