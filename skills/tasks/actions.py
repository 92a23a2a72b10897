"""Task actions for the conversation, by title rather than id."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from skills.access import Capability
from skills.actions import Action, Outcome
from skills.context import NotFound, SkillContext, SkillError
from skills.tasks.schemas import TaskCreate, TaskQuery, TaskUpdate
from skills.tasks.service import TaskService
from skills.types import CalendarTime
from store.models import Task, TaskStatus

Item = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class TaskRef(BaseModel):
    """Which task: by id when known, else by (fuzzy) title."""

    model_config = ConfigDict(extra="forbid")

    task_id: uuid.UUID | None = None
    title: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_of(self) -> TaskRef:
        if self.task_id is None and not (self.title and self.title.strip()):
            raise ValueError("say which task: a title or an id")
        return self


class TaskFind(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    list: str | None = None
    project: str | None = None
    status: TaskStatus | None = TaskStatus.OPEN
    due_from: CalendarTime | None = None
    due_to: CalendarTime | None = None


class TaskChange(TaskRef):
    changes: TaskUpdate


class TaskDelete(BaseModel):
    """One task, or every open task (optionally of one list)."""

    model_config = ConfigDict(extra="forbid")

    task_id: uuid.UUID | None = None
    title: str | None = None
    all: bool = False
    list: str | None = None

    @model_validator(mode="after")
    def _target(self) -> TaskDelete:
        if not (self.all or self.task_id or self.title):
            raise ValueError("say which task to delete, or all")
        return self


async def _resolve(service: TaskService, ref: TaskRef | TaskDelete) -> Task:
    if ref.task_id is not None:
        return await service.get(ref.task_id)
    assert ref.title is not None
    return await service.find_by_title(ref.title)


async def _records(service: TaskService, tasks: list[Task]) -> list[dict]:
    return [t.model_dump(mode="json") for t in await service.public(tasks)]


class TaskAdd(TaskCreate):
    """One task, or several said at once ("eggs, bread and milk"): one task per item,
    sharing the list, the due time and the reminder, added and undone together."""

    title: str | None = Field(default=None, min_length=1, max_length=500)  # type: ignore[assignment]
    items: list[Item] | None = Field(default=None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _something(self) -> TaskAdd:
        if not (self.title or self.items):
            raise ValueError("say what to add")
        return self


def _whole_again(items: list[str], known: set[str]) -> list[str]:
    """Neighbours the user already keeps as one thing ("fish and rice") made whole."""
    known = {title.lower() for title in known}
    joined: list[str] = []
    for item in items:
        if joined and f"{joined[-1]} and {item}".lower() in known:
            joined[-1] = f"{joined[-1]} and {item}"
        else:
            joined.append(item)
    return joined


async def create_task(ctx: SkillContext, args: TaskAdd) -> Outcome:
    service = TaskService(ctx)
    shared = args.model_dump(exclude={"items", "title"})
    if args.items:
        titles = _whole_again(args.items, await service.titles_with_and())
        tasks = await service.create_many([TaskCreate(**shared, title=t) for t in titles])
    else:
        tasks = [await service.create(TaskCreate(**shared, title=args.title))]
    public = await service.public(tasks)
    first = tasks[0]
    facts = {
        "title": first.title,
        "titles": [task.title for task in tasks],
        "list": public[0].list,
        "due_at": first.due_at,
        "remind_at": first.remind_at,
        "recurrence": first.recurrence,
    }
    return Outcome("tasks.create", facts, [p.model_dump(mode="json") for p in public])


async def query_tasks(ctx: SkillContext, args: TaskFind) -> Outcome:
    service = TaskService(ctx)
    tasks = await service.search(TaskQuery(**args.model_dump()))
    facts = {"count": len(tasks), "titles": [t.title for t in tasks], "list": args.list}
    return Outcome("tasks.query", facts, await _records(service, tasks), changed=False)


class TaskDone(TaskRef):
    """One task, or several said at once ("tick off butter, cheese and apples")."""

    items: list[Item] | None = Field(default=None, min_length=1, max_length=50)


async def _each(service: TaskService, items: list[str]) -> list[Task]:
    """A task for each item, or none when the items are not each a task of their own
    (the words name one task: "call mom and dad tonight")."""
    try:
        tasks = [await service.find_by_title(item) for item in items]
    except NotFound:
        return []
    return tasks if len({task.id for task in tasks}) == len(tasks) else []


async def complete_task(ctx: SkillContext, args: TaskDone) -> Outcome:
    service = TaskService(ctx)
    whole = await service.find_exact(args.title) if args.title else None
    tasks = [] if whole or not args.items else await _each(service, args.items)
    if len(tasks) > 1:
        done = await service.complete_many(tasks)
        titles = [d.task.title for d in done]
        facts = {"title": titles[0], "titles": titles, "next_due": None}
        return Outcome("tasks.complete", facts, await _records(service, [d.task for d in done]))
    one = await service.complete((whole or await _resolve(service, args)).id)
    facts = {"title": one.task.title, "next_due": one.next_due}
    return Outcome("tasks.complete", facts, await _records(service, [one.task]))


async def update_task(ctx: SkillContext, args: TaskChange) -> Outcome:
    service = TaskService(ctx)
    task = await service.update((await _resolve(service, args)).id, args.changes)
    facts = {
        "title": task.title,
        "changed": sorted(args.changes.model_fields_set),
        "due_at": task.due_at,
    }
    return Outcome("tasks.update", facts, await _records(service, [task]))


async def delete_tasks(ctx: SkillContext, args: TaskDelete) -> Outcome:
    service = TaskService(ctx)
    if args.all:
        tasks = await service.search(TaskQuery(list=args.list, status=TaskStatus.OPEN, limit=500))
        if not tasks:
            raise SkillError("there are no open tasks to delete")
    else:
        tasks = [await _resolve(service, args)]
    records = await _records(service, tasks)
    count = await service.delete_many(tasks)
    facts = {"count": count, "titles": [t.title for t in tasks], "list": args.list}
    return Outcome("tasks.delete", facts, records)


TASK_ACTIONS = [
    Action(
        "tasks.create",
        "Add a task, a list item or a reminder; several items at once as `items`.",
        TaskAdd,
        create_task,
        needs=Capability.LISTS_EDIT,
        replies={
            "list": "Added {title} to your {list} list.",
            "repeating": "Okay, I'll remind you to {title} {repeat}.",
            "reminder": "Okay, I'll remind you to {title} {when}.",
            "task": "Added {title} to your tasks.",
        },
        proposals=(
            "There's no {new_list} list yet. Create it and add {title}?",
            "Add {title} to your {list} list?",
            "Remind you to {title} {when}?",
            "Add {title} to your tasks?",
        ),
        questions={"when": "When should I remind you?", "title": "What should I add?"},
    ),
    Action(
        "tasks.query",
        "Read tasks or the items of a list.",
        TaskFind,
        query_tasks,
        needs=Capability.LISTS_READ,
        replies={
            "list": "You have {count} {things} on your {list} list: {titles}.",
            "tasks": "You have {count} {things} on your tasks: {titles}.",
            "empty_list": "There's nothing on your {list} list.",
            "empty": "There's nothing on your tasks.",
        },
        proposals=("Read your {list} list?", "Read your tasks?"),
    ),
    Action(
        "tasks.complete",
        "Mark a task done (repeating ones roll forward); several at once as `items`.",
        TaskDone,
        complete_task,
        needs=Capability.LISTS_EDIT,
        replies={
            "repeating": "Done. {title} is next due {next_due}.",
            "done": "Marked {title} as done.",
        },
        proposals=("Mark {title} as done?",),
        questions={"title": "Which task?"},
    ),
    Action(
        "tasks.update",
        "Change a task: title, due time, reminder, list, priority.",
        TaskChange,
        update_task,
        needs=Capability.LISTS_EDIT,
        replies={"moved": "Moved {title} to {when}.", "changed": "Updated {title}."},
        proposals=(
            "There's no {new_list} list yet. Create it and move {title} there?",
            "Move {title} to {when}?",
            "Change {title}?",
        ),
        questions={"when": "When should I move it to?"},
    ),
    Action(
        "tasks.delete",
        "Delete a task, or all open tasks of a list.",
        TaskDelete,
        delete_tasks,
        needs=Capability.LISTS_EDIT,
        replies={"one": "Deleted {title}.", "many": "Deleted {count} tasks."},
        proposals=(
            "Delete all {count} {noun} on your {list} list?",
            "Delete all {count} {noun}?",
            "Delete {title}?",
        ),
        confirm=True,
    ),
]
