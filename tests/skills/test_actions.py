"""The action catalogue, driven the way the intent layer will drive it: names and
plain-data arguments in, facts for the spoken reply out."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from skills.catalogue import build_catalogue
from skills.context import NotFound, SkillContext, SkillError
from skills.files import LocalFileStore
from skills.history import undo_last

NY = ZoneInfo("America/New_York")
catalogue = build_catalogue()


def test_catalogue_covers_the_skill_vocabulary() -> None:
    assert catalogue.names() == [
        "calendar.create",
        "calendar.delete",
        "calendar.free_time",
        "calendar.query",
        "calendar.update",
        "finance.expense",
        "finance.income",
        "finance.invoice",
        "finance.job_costing",
        "finance.query",
        "finance.recategorize",
        "reminders.snooze",
        "tasks.complete",
        "tasks.create",
        "tasks.delete",
        "tasks.query",
        "tasks.update",
    ]
    confirmed = {action.name for action in catalogue if action.confirm}
    assert confirmed == {"tasks.delete", "calendar.delete", "finance.invoice"}
    for action in catalogue:  # every action can describe its arguments as a JSON schema
        assert action.args.model_json_schema()["type"] == "object"
        assert action.description


async def test_task_actions_by_title(ctx: SkillContext) -> None:
    run = lambda name, args: catalogue[name].run(ctx, args)  # noqa: E731
    made = await run("tasks.create", {"title": "milk", "list": "groceries"})
    assert made.facts["list"] == "grocery"
    await run("tasks.create", {"title": "eggs", "list": "grocery list"})
    await run("tasks.create", {"title": "call mom", "due_at": "2026-03-05T18:00:00-05:00"})

    listed = await run("tasks.query", {"list": "groceries"})
    assert listed.facts["titles"] == ["milk", "eggs"]
    assert listed.changed is False

    done = await run("tasks.complete", {"title": "Call Mom"})
    assert done.facts["title"] == "call mom"
    moved = await run("tasks.update", {"title": "eggs", "changes": {"title": "free-range eggs"}})
    assert moved.facts["changed"] == ["title"]

    gone = await run("tasks.delete", {"all": True, "list": "grocery"})
    assert gone.facts["count"] == 2
    assert (await run("tasks.query", {"list": "grocery"})).facts["count"] == 0
    await undo_last(ctx)
    assert (await run("tasks.query", {"list": "grocery"})).facts["titles"] == [
        "milk",
        "free-range eggs",
    ]


async def test_unknown_titles_and_bad_arguments(ctx: SkillContext) -> None:
    with pytest.raises(NotFound, match="couldn't find a task called “taxes”"):
        await catalogue["tasks.complete"].run(ctx, {"title": "taxes"})
    with pytest.raises(ValidationError):
        await catalogue["tasks.complete"].run(ctx, {})
    with pytest.raises(ValidationError):
        await catalogue["calendar.create"].run(ctx, {"title": "x", "start_at": "tomorrow"})


async def test_calendar_actions(ctx: SkillContext) -> None:
    run = lambda name, args: catalogue[name].run(ctx, args)  # noqa: E731
    made = await run(
        "calendar.create",
        {"title": "Dentist", "start_at": "2026-03-05T10:00:00-05:00", "duration_minutes": 45},
    )
    assert made.facts["conflicts_with"] == []
    clash = await run(
        "calendar.create", {"title": "Plumber", "start_at": "2026-03-05T10:30:00-05:00"}
    )
    assert clash.facts["conflicts_with"] == ["Dentist"]

    week = {"start": "2026-03-02T00:00:00-05:00", "end": "2026-03-09T00:00:00-05:00"}
    seen = await run("calendar.query", week)
    assert [e["title"] for e in seen.facts["events"]] == ["Dentist", "Plumber"]
    assert (await run("calendar.query", {**week, "text": "dentist"})).facts["count"] == 1

    moved = await run(
        "calendar.update",
        {"title": "the plumber", "changes": {"start_at": "2026-03-05T14:00:00-05:00"}},
    )
    assert moved.facts["start_at"].astimezone(NY).hour == 14

    free = await run(
        "calendar.free_time",
        {"duration_minutes": 60, "start": week["start"], "end": week["end"], "limit": 3},
    )
    assert len(free.facts["slots"]) == 3
    for slot in free.facts["slots"]:
        assert slot["start_at"] >= datetime(2026, 3, 4, 20, tzinfo=UTC)  # not before now

    await run("calendar.delete", {"title": "dentist"})
    assert [e["title"] for e in (await run("calendar.query", week)).facts["events"]] == ["Plumber"]
    await undo_last(ctx)
    assert (await run("calendar.query", week)).facts["count"] == 2


async def test_finance_actions(ctx: SkillContext, tmp_path) -> None:
    ctx.files = LocalFileStore(tmp_path)
    run = lambda name, args: catalogue[name].run(ctx, args)  # noqa: E731
    spent = await run(
        "finance.expense",
        {"amount": "42.50", "merchant": "Home Depot", "project": "Kitchen remodel"},
    )
    assert (spent.facts["amount"], spent.facts["category"]) == (Decimal("42.50"), "Materials")
    await run("finance.expense", {"amount": "6", "merchant": "Blue Bottle"})
    refiled = await run("finance.recategorize", {"merchant": "blue bottle", "category": "Coffee"})
    assert refiled.facts["category"] == "Coffee"
    earned = await run(
        "finance.income", {"amount": "500", "merchant": "The Smiths", "project": "kitchen remodel"}
    )
    assert earned.facts["category"] == "Income"

    march = {"start": "2026-03-01", "end": "2026-04-01"}
    asked = await run("finance.query", march)
    assert asked.facts["total"] == Decimal("48.50")
    assert asked.facts["top"][0]["name"] == "Materials"
    coffee = await run("finance.query", {**march, "category": "coffee"})
    assert (coffee.facts["total"], coffee.facts["count"]) == (Decimal("6"), 1)

    costing = await run("finance.job_costing", {"project": "kitchen remodel"})
    assert (costing.facts["revenue"], costing.facts["margin"]) == (
        Decimal("500"),
        Decimal("457.50"),
    )
    with pytest.raises(SkillError, match="nothing left to bill"):
        await run("finance.invoice", {"project": "kitchen remodel"})
