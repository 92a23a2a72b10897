"""Tasks and lists as a user experiences them, including undo and repeating tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from skills.context import NotFound, SkillContext, SkillError
from skills.history import undo_last
from skills.tasks.schemas import TaskCreate, TaskQuery, TaskUpdate
from skills.tasks.service import TaskService
from store.models import AuditEntry, TaskStatus

NY = ZoneInfo("America/New_York")


async def titles(service: TaskService, **query: object) -> list[str]:
    return [t.title for t in await service.search(TaskQuery(**query))]


async def test_spoken_list_names_find_the_same_list(ctx: SkillContext) -> None:
    tasks = TaskService(ctx)
    await tasks.create(TaskCreate(title="milk", list="shopping list"))
    await tasks.create(TaskCreate(title="eggs", list="my Shopping"))
    await tasks.create(TaskCreate(title="apples", list="groceries"))
    await tasks.create(TaskCreate(title="bread", list="the grocery list"))
    await tasks.create(TaskCreate(title="screws", list="hardware store"))
    await tasks.create(TaskCreate(title="hinges", list="hardware store list"))

    lists = {item.name: item.open_tasks for item in await tasks.lists()}
    assert lists == {"shopping": 2, "grocery": 2, "hardware store": 2}
    assert await titles(tasks, list="shopping") == ["milk", "eggs"]
    assert await titles(tasks, list="Groceries") == ["apples", "bread"]
    assert await titles(tasks, list="camping") == []


async def test_search_filters(ctx: SkillContext) -> None:
    tasks = TaskService(ctx)
    friday = datetime(2026, 3, 6, 17, 0, tzinfo=NY)
    await tasks.create(TaskCreate(title="File taxes", due_at=friday, priority=3, project="Home"))
    await tasks.create(TaskCreate(title="Call plumber", due_at=friday + timedelta(days=7)))
    await tasks.create(TaskCreate(title="Buy 50% off tiles", project="Kitchen remodel"))
    done = await tasks.create(TaskCreate(title="Old chore"))
    await tasks.complete(done.id)

    assert await titles(tasks, text="TAXES") == ["File taxes"]
    assert await titles(tasks, text="50%") == ["Buy 50% off tiles"]
    assert await titles(tasks, text="%") == ["Buy 50% off tiles"]  # % is literal, not a wildcard
    assert await titles(tasks, priority=3) == ["File taxes"]
    assert await titles(tasks, project="kitchen remodel") == ["Buy 50% off tiles"]
    assert await titles(tasks, status=TaskStatus.DONE) == ["Old chore"]
    this_week = {
        "due_from": datetime(2026, 3, 2, tzinfo=NY),
        "due_to": datetime(2026, 3, 9, tzinfo=NY),
    }
    assert await titles(tasks, **this_week) == ["File taxes"]
    # Open first, soonest due first, undated after.
    assert await titles(tasks) == ["File taxes", "Call plumber", "Buy 50% off tiles", "Old chore"]


async def test_complete_and_reopen(ctx: SkillContext) -> None:
    tasks = TaskService(ctx)
    task = await tasks.create(TaskCreate(title="Water plants"))
    done = await tasks.complete(task.id)
    assert done.task.status == TaskStatus.DONE and done.task.completed_at == ctx.now()
    assert done.next_due is None
    with pytest.raises(SkillError, match="already done"):
        await tasks.complete(task.id)
    reopened = await tasks.reopen(task.id)
    assert reopened.status == TaskStatus.OPEN and reopened.completed_at is None


async def test_repeating_task_rolls_forward_in_local_time_across_dst(ctx: SkillContext) -> None:
    tasks = TaskService(ctx)
    # Every Monday at 9:00 New York; the clocks go forward on Sunday March 8, 2026.
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=NY)
    task = await tasks.create(
        TaskCreate(
            title="Take out bins",
            due_at=monday,
            remind_at=monday - timedelta(minutes=30),
            recurrence="RRULE:FREQ=WEEKLY;BYDAY=MO",
        )
    )
    done = await tasks.complete(task.id)
    assert done.task.status == TaskStatus.OPEN
    local_due = done.task.due_at.astimezone(NY)
    assert (local_due.date().isoformat(), local_due.hour) == ("2026-03-09", 9)
    assert done.task.due_at.astimezone(UTC).hour == 13  # 9:00 EDT, was 14:00 UTC under EST
    assert done.task.remind_at.astimezone(NY).strftime("%H:%M") == "08:30"
    assert len(done.task.meta["completions"]) == 1


async def test_finished_rule_completes_the_task(ctx: SkillContext) -> None:
    tasks = TaskService(ctx)
    due = datetime(2026, 3, 5, 9, tzinfo=NY)
    task = await tasks.create(
        TaskCreate(title="Pill", due_at=due, recurrence="FREQ=DAILY;UNTIL=20260305T235959")
    )
    done = await tasks.complete(task.id)
    assert done.next_due is None and done.task.status == TaskStatus.DONE


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "x", "recurrence": "FREQ=WEEKLY"}, "needs a due date"),
        (
            {
                "title": "x",
                "due_at": datetime(2026, 3, 5, tzinfo=UTC),
                "recurrence": "FREQ=SOMETIMES",
            },
            "not valid",
        ),
    ],
)
async def test_bad_recurrence_is_refused(ctx: SkillContext, fields: dict, message: str) -> None:
    with pytest.raises(SkillError, match=message):
        await TaskService(ctx).create(TaskCreate(**fields))


async def test_every_change_is_audited_and_undoable(ctx: SkillContext) -> None:
    tasks = TaskService(ctx)
    task = await tasks.create(TaskCreate(title="Call mom", list="errands"))
    await tasks.update(task.id, TaskUpdate(title="Call mom back", priority=2))
    await tasks.complete(task.id)
    await tasks.delete(task.id)
    assert await titles(tasks, status=None) == []

    undone = await undo_last(ctx)  # the delete
    assert undone.action == "tasks.delete"
    restored = await tasks.get(task.id)
    assert restored.status == TaskStatus.DONE

    await undo_last(ctx)  # the completion
    assert (await tasks.get(task.id)).status == TaskStatus.OPEN
    await undo_last(ctx)  # the rename
    assert (await tasks.get(task.id)).title == "Call mom"
    await undo_last(ctx)  # the creation, and the list it started
    with pytest.raises(NotFound):
        await tasks.get(task.id)
    assert await tasks.lists() == []
    with pytest.raises(SkillError, match="nothing to undo"):
        await undo_last(ctx)

    actions = (
        await ctx.session.exec(select(AuditEntry.action).where(AuditEntry.user_id == ctx.user_id))
    ).all()
    assert sorted(actions).count("undo") == 4
    assert {"tasks.create", "tasks.update", "tasks.complete", "tasks.delete"} <= set(actions)


async def test_deleting_a_list_takes_its_tasks_and_undo_brings_both_back(ctx: SkillContext) -> None:
    tasks = TaskService(ctx)
    await tasks.create(TaskCreate(title="milk", list="shopping"))
    await tasks.create(TaskCreate(title="eggs", list="shopping"))
    [shopping] = await tasks.lists()
    await tasks.delete_list(shopping.id)
    assert await tasks.lists() == []
    assert await titles(tasks) == []
    await undo_last(ctx)
    assert await titles(tasks, list="shopping") == ["milk", "eggs"]


async def test_another_users_tasks_are_invisible_and_untouchable(
    ctx: SkillContext, other: SkillContext
) -> None:
    mine = TaskService(ctx)
    task = await mine.create(TaskCreate(title="Secret plan", list="private"))
    [private] = await mine.lists()

    theirs = TaskService(other)
    for attempt in (
        theirs.get(task.id),
        theirs.update(task.id, TaskUpdate(title="hacked")),
        theirs.complete(task.id),
        theirs.delete(task.id),
        theirs.delete_list(private.id),
    ):
        with pytest.raises(NotFound):
            await attempt
    with pytest.raises(NotFound):
        await theirs.find_by_title("Secret plan")
    assert await titles(theirs, status=None) == []
    assert await theirs.lists() == []
    with pytest.raises(SkillError, match="nothing to undo"):
        await undo_last(other)
    assert (await mine.get(task.id)).title == "Secret plan"
