"""The Claude path with the real anthropic client against a local Messages API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import anthropic
import pytest

from intents.cascade import Cascade
from intents.claude import ClaudeParser, tools_for
from intents.model import UserContext
from intents.rules import RuleParser
from skills.catalogue import build_catalogue
from tests.anthropic_server import Script, anthropic_server
from tests.fake_trained import Unplaced

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=ZoneInfo("America/New_York"))
CONTEXT = UserContext(
    now=NOW,
    lists=["shopping", "hardware store"],
    projects=["Kitchen remodel"],
    categories=["Coffee"],
    upcoming=[{"title": "Dentist", "start_at": "2026-03-06T15:00"}],
    recent_turns=[
        ("user", "add milk to my shopping list"),
        ("assistant", "Added milk to your shopping list."),
    ],
)


def answer(text: str) -> tuple[str, dict]:
    if "accountant" in text:
        return "calendar_create", {
            "title": "Meeting with the accountant",
            "start_at": "2026-03-10T10:00:00-04:00",
            "duration_minutes": 60,
        }
    return "out_of_scope", {"reason": "not about tasks, calendar or money"}


@pytest.fixture
async def script() -> AsyncIterator[tuple[Script, str]]:
    script = Script(answer)
    async with anthropic_server(script) as url:
        yield script, url


def parser(url: str, timeout: float = 4.0) -> ClaudeParser:
    client = anthropic.AsyncAnthropic(api_key="test-key", base_url=url, max_retries=0)
    return ClaudeParser(client, tools_for(build_catalogue()), timeout=timeout)


async def test_tool_call_becomes_an_intent(script: tuple[Script, str]) -> None:
    fake, url = script
    intent = await parser(url).parse(
        "get me in front of the accountant on tuesday morning", CONTEXT
    )
    assert intent is not None
    assert (intent.action, intent.source) == ("calendar.create", "llm")
    assert intent.slots["title"] == "Meeting with the accountant"
    [request] = fake.requests
    assert request["stream"] is True
    assert request["tool_choice"] == {"type": "any"}
    tools = {tool["name"]: tool for tool in request["tools"]}
    assert {"tasks_create", "calendar_create", "finance_expense", "out_of_scope"} <= set(tools)
    assert "start_at" in tools["calendar_create"]["input_schema"]["properties"]
    system = request["system"]
    for fact in (
        "2026-03-04T15:00-05:00",
        "America/New_York",
        "hardware store",
        "Kitchen remodel",
        "Dentist",
        "Added milk to your shopping list.",
    ):
        assert fact in system


async def test_out_of_scope_from_claude(script: tuple[Script, str]) -> None:
    intent = await parser(script[1]).parse("sing me a song", CONTEXT)
    assert intent is not None and intent.action == "out_of_scope"


async def test_timeout_and_errors_fall_back(script: tuple[Script, str]) -> None:
    fake, url = script
    fake.delay = 1.0
    slow = await parser(url, timeout=0.2).parse("get the accountant in", CONTEXT)
    assert slow is not None and slow.slots == {"reason": "unavailable"}
    assert (len(fake.requests), fake.answered) == (1, 0)  # given up on before the answer came
    fake.delay, fake.fail_with = 0.0, 529
    failed = await parser(url).parse("get the accountant in", CONTEXT)
    assert failed is not None and failed.slots == {"reason": "unavailable"}


async def test_rules_first_claude_only_when_unsure(
    script: tuple[Script, str], rules: RuleParser
) -> None:
    fake, url = script
    # The trained parser places nothing here: the ladder's order is under test, not
    # what the classifier makes of a vague request.
    cascade = Cascade(rules, parser(url), trained=Unplaced())  # type: ignore[arg-type]
    sure = await cascade.parse("add milk to my shopping list", CONTEXT)
    assert (sure.action, sure.source) == ("tasks.create", "rules")
    assert fake.requests == []  # the confident local answer never reached Claude
    unsure = await cascade.parse("could you get me in with the accountant", CONTEXT)
    assert (unsure.action, unsure.source) == ("calendar.create", "llm")
    assert len(fake.requests) == 1
    without_key = await Cascade(rules, trained=Unplaced()).parse(  # type: ignore[arg-type]
        "could you get me in with the accountant", CONTEXT
    )
    assert without_key.action == "out_of_scope"
