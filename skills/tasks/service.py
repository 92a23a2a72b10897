"""Tasks and lists for one user: create, change, complete, search, undo-able."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz, process
from sqlalchemy import func, or_
from sqlmodel import col, select

from skills import access
from skills.access import Capability
from skills.context import NotFound, SkillContext, SkillError
from skills.history import ChangeSet, record_action, snapshot
from skills.projects import find_or_start_project, find_project, project_names
from skills.records import add_unless_taken, like_pattern
from skills.recurrence import next_after, normalize_rule
from skills.tasks.lists import best_match, display_name, prefer_own
from skills.tasks.schemas import ListPublic, TaskCreate, TaskPublic, TaskQuery, TaskUpdate
from store.models import Task, TaskList, TaskStatus


@dataclass(frozen=True)
class Completion:
    task: Task
    next_due: datetime | None  # set when a repeating task rolled forward instead of closing


class TaskService:
    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx
        self.session = ctx.session

    # --- tasks -------------------------------------------------------------

    async def create(self, data: TaskCreate) -> Task:
        changes = ChangeSet()
        task = await self._add(data, changes)
        record_action(self.ctx, "tasks.create", "task", task.id, changes, title=task.title)
        return task

    async def create_many(self, items: list[TaskCreate]) -> list[Task]:
        """Several tasks said at once ("eggs, bread and milk"), undone together."""
        changes = ChangeSet()
        tasks = [await self._add(data, changes) for data in items]
        titles = [task.title for task in tasks]
        record_action(self.ctx, "tasks.create", "task", None, changes, titles=titles[:20])
        return tasks

    async def titles_with_and(self) -> set[str]:
        """The user's task titles that join two words with "and" ("mac and cheese")."""
        statement = select(Task.title).where(
            await access.visible_tasks(self.ctx), col(Task.title).ilike("% and %")
        )
        return set(await self.session.exec(statement))

    async def _add(self, data: TaskCreate, changes: ChangeSet) -> Task:
        task = Task(
            user_id=self.ctx.user_id,
            title=data.title,
            description=data.description,
            assignee=data.assignee,
            due_at=data.due_at,
            remind_at=data.remind_at,
            priority=data.priority,
            recurrence=self._checked_rule(data.recurrence, data.due_at),
        )
        if data.list:
            task.list_id = (await self.list_for(data.list, changes)).id
        if data.project:
            task.project_id = (await find_or_start_project(self.ctx, data.project, changes)).id
        self.session.add(task)
        await self.session.flush()
        changes.created(task)
        return task

    async def get(self, task_id: uuid.UUID, capability: Capability = Capability.LISTS_READ) -> Task:
        """A task the user may see (and, asked for, change); another's is NotFound."""
        task = await self.session.get(Task, task_id)
        if task is None:
            raise NotFound("no such task")
        await self.require(task, capability)
        return task

    async def require(self, task: Task, capability: Capability = Capability.LISTS_EDIT) -> None:
        """Refuse, in words, a change the user's role does not allow."""
        on = await self.session.get(TaskList, task.list_id) if task.list_id else None
        what = f"{on.name} list" if on else "task"
        await access.require(self.ctx, task, capability, noun="task", what=what, doing="change")

    async def update(self, task_id: uuid.UUID, data: TaskUpdate) -> Task:
        task = await self.get(task_id, Capability.LISTS_EDIT)
        before = snapshot(task)
        changes = ChangeSet()
        sent = data.model_fields_set
        for name in ("title", "description", "assignee", "due_at", "remind_at", "priority"):
            if name in sent:
                value = getattr(data, name)
                if value is None and name in ("title", "priority"):
                    raise SkillError(f"{name} cannot be empty")
                setattr(task, name, value)
        if "status" in sent and data.status is not None:
            self._set_status(task, data.status)
        if "list" in sent:
            task.list_id = (await self.list_for(data.list, changes)).id if data.list else None
        if "project" in sent:
            project = (
                await find_or_start_project(self.ctx, data.project, changes)
                if data.project
                else None
            )
            task.project_id = project.id if project else None
        if "recurrence" in sent or "due_at" in sent:
            task.recurrence = self._checked_rule(
                data.recurrence if "recurrence" in sent else task.recurrence, task.due_at
            )
        task.updated_at = self.ctx.now()
        self.session.add(task)
        await self.session.flush()
        changes.updated(task, before)
        record_action(self.ctx, "tasks.update", "task", task.id, changes, title=task.title)
        return task

    async def delete(self, task_id: uuid.UUID) -> Task:
        task = await self.get(task_id, Capability.LISTS_EDIT)
        changes = ChangeSet()
        changes.deleted(task)
        await self.session.delete(task)
        await self.session.flush()
        record_action(self.ctx, "tasks.delete", "task", task.id, changes, title=task.title)
        return task

    async def delete_many(self, tasks: list[Task]) -> int:
        """Delete several tasks as one undoable action (callers confirm first)."""
        changes = ChangeSet()
        for task in tasks:
            await self.require(task)
            changes.deleted(task)
            await self.session.delete(task)
        await self.session.flush()
        record_action(
            self.ctx,
            "tasks.delete",
            "task",
            None,
            changes,
            count=len(tasks),
            titles=[task.title for task in tasks[:20]],
        )
        return len(tasks)

    async def complete_many(self, tasks: list[Task]) -> list[Completion]:
        """Several tasks checked off at once ("butter, cheese and apples"), undone together."""
        changes = ChangeSet()
        done = [await self._complete(task, changes) for task in tasks]
        titles = [task.title for task in tasks]
        record_action(self.ctx, "tasks.complete", "task", None, changes, titles=titles[:20])
        return done

    async def _complete(self, task: Task, changes: ChangeSet) -> Completion:
        await self.require(task)
        if task.status == TaskStatus.DONE:
            raise SkillError(f"“{task.title}” is already done")
        before = snapshot(task)
        next_due = self._roll_forward(task)
        if next_due is None:
            self._set_status(task, TaskStatus.DONE)
        task.updated_at = self.ctx.now()
        self.session.add(task)
        await self.session.flush()
        changes.updated(task, before)
        return Completion(task, next_due)

    async def complete(self, task_id: uuid.UUID) -> Completion:
        task = await self.get(task_id, Capability.LISTS_EDIT)
        changes = ChangeSet()
        next_due = (await self._complete(task, changes)).next_due
        record_action(
            self.ctx,
            "tasks.complete",
            "task",
            task.id,
            changes,
            title=task.title,
            next_due=next_due.isoformat() if next_due else None,
        )
        return Completion(task, next_due)

    async def find_by_title(self, title: str, *, include_done: bool = False) -> Task:
        """The task a spoken title means, best match among the user's tasks."""
        statement = select(Task).where(await access.visible_tasks(self.ctx))
        if not include_done:
            statement = statement.where(Task.status == TaskStatus.OPEN)
        tasks = list(await self.session.exec(statement))
        choices = {task.id: task.title.lower() for task in tasks}
        found = process.extractOne(
            title.strip().lower(), choices, scorer=fuzz.WRatio, score_cutoff=80
        )
        if found is None:
            raise NotFound(f"I couldn't find a task called “{title}”")
        return next(task for task in tasks if task.id == found[2])

    async def find_exact(self, title: str) -> Task | None:
        """The open task with exactly this title (any case), if there is one."""
        statement = select(Task).where(
            await access.visible_tasks(self.ctx),
            Task.status == TaskStatus.OPEN,
            func.lower(Task.title) == title.strip().lower(),
        )
        return (await self.session.exec(statement)).first()

    async def reopen(self, task_id: uuid.UUID) -> Task:
        task = await self.get(task_id, Capability.LISTS_EDIT)
        return await self.update(task.id, TaskUpdate(status=TaskStatus.OPEN))

    async def search(self, query: TaskQuery) -> list[Task]:
        statement = select(Task).where(await access.visible_tasks(self.ctx))
        if query.text:
            pattern = like_pattern(query.text)
            statement = statement.where(
                or_(
                    col(Task.title).ilike(pattern, escape="\\"),
                    col(Task.description).ilike(pattern, escape="\\"),
                )
            )
        if query.list:
            found = await self.find_list(query.list)
            if found is None:
                return []
            statement = statement.where(Task.list_id == found.id)
        if query.project:
            project = await find_project(self.ctx, query.project)
            if project is None:
                return []
            statement = statement.where(Task.project_id == project.id)
        if query.status:
            statement = statement.where(Task.status == query.status)
        if query.priority is not None:
            statement = statement.where(Task.priority == query.priority)
        if query.due_from:
            statement = statement.where(col(Task.due_at) >= query.due_from)
        if query.due_to:
            statement = statement.where(col(Task.due_at) < query.due_to)
        statement = statement.order_by(
            col(Task.status).desc(),  # "open" sorts after "done": open first
            col(Task.due_at).is_(None),
            col(Task.due_at),
            col(Task.priority).desc(),
            col(Task.created_at),
        ).limit(query.limit)
        return list(await self.session.exec(statement))

    async def public(self, tasks: list[Task]) -> list[TaskPublic]:
        list_ids = {t.list_id for t in tasks if t.list_id}
        lists = {item.id: item.name for item in await self._all_lists() if item.id in list_ids}
        projects = await project_names(self.ctx, {t.project_id for t in tasks if t.project_id})
        return [
            TaskPublic(
                **task.model_dump(exclude={"user_id", "meta"}),
                list=lists.get(task.list_id) if task.list_id else None,
                project=projects.get(task.project_id) if task.project_id else None,
            )
            for task in tasks
        ]

    # --- lists -------------------------------------------------------------

    async def lists(self) -> list[ListPublic]:
        counts = dict(
            (
                await self.session.exec(
                    select(Task.list_id, func.count())
                    .where(await access.visible_tasks(self.ctx), Task.status == TaskStatus.OPEN)
                    .group_by(Task.list_id)
                )
            ).all()
        )
        return [
            await self.list_public(item, counts.get(item.id, 0))
            for item in sorted(await self._all_lists(), key=lambda i: (i.name, str(i.id)))
        ]

    async def list_public(self, item: TaskList, open_tasks: int = 0) -> ListPublic:
        member = (await access.memberships(self.ctx)).get(item.household_id)  # type: ignore[arg-type]
        return ListPublic(
            id=item.id,
            name=item.name,
            open_tasks=open_tasks,
            household_id=item.household_id,
            household=member.name if member else None,
            mine=item.user_id == self.ctx.user_id,
        )

    async def find_list(self, spoken: str) -> TaskList | None:
        """The list a spoken name means. "the family shopping list" names the
        shopping list shared with the Family household; a plain "shopping" means
        one's own list of that name first, then a shared one."""
        lists = await self._all_lists()
        households = await access.memberships(self.ctx)
        aliases = {
            item.id: f"{households[item.household_id].name} {item.name}"
            for item in lists
            if item.household_id in households
        }
        return best_match(spoken, prefer_own(lists, self.ctx.user_id), aliases)

    async def list_for(self, spoken: str, changes: ChangeSet) -> TaskList:
        """The list a spoken name means, started if the user has none like it."""
        found = await self.find_list(spoken)
        if found is not None:
            await access.require(
                self.ctx,
                found,
                Capability.LISTS_EDIT,
                noun="list",
                what=f"{found.name} list",
                doing="add to",
            )
            return found
        created = TaskList(user_id=self.ctx.user_id, name=display_name(spoken))
        if not await add_unless_taken(self.ctx, created):
            theirs = await self.find_list(spoken)  # a simultaneous request started it
            if theirs is None:
                raise SkillError(f"could not start the list “{spoken}”; try again")
            return theirs
        changes.created(created)
        return created

    async def create_list(self, name: str) -> TaskList:
        if await self.find_list(name) is not None:
            raise SkillError(f"you already have a list like “{name}”")
        changes = ChangeSet()
        created = await self.list_for(name, changes)
        record_action(self.ctx, "lists.create", "list", created.id, changes, name=created.name)
        return created

    async def delete_list(self, list_id: uuid.UUID) -> TaskList:
        """Delete a list and the tasks on it, as one undoable action."""
        found = await self.list_to_manage(list_id, doing="delete")
        changes = ChangeSet()
        # Every item goes with the list, whoever in the household added it.
        tasks = await self.session.exec(select(Task).where(Task.list_id == list_id))
        for task in tasks:
            changes.deleted(task)
            await self.session.delete(task)
        await self.session.flush()
        changes.deleted(found)
        await self.session.delete(found)
        await self.session.flush()
        record_action(self.ctx, "lists.delete", "list", found.id, changes, name=found.name)
        return found

    async def share_list(self, list_id: uuid.UUID, household_id: uuid.UUID | None) -> TaskList:
        """Share a list with a household (None: keep it to oneself again), undoable."""
        found = await self.list_to_manage(list_id, doing="share")
        if household_id is not None:
            await access.require_household(
                self.ctx, household_id, Capability.LISTS_EDIT, doing="share lists with it"
            )
        before = snapshot(found)
        found.household_id = household_id
        found.updated_at = self.ctx.now()
        self.session.add(found)
        await self.session.flush()
        changes = ChangeSet()
        changes.updated(found, before)
        record_action(
            self.ctx,
            "lists.share",
            "list",
            found.id,
            changes,
            name=found.name,
            household_id=str(household_id) if household_id else None,
        )
        return found

    async def list_to_manage(self, list_id: uuid.UUID, *, doing: str) -> TaskList:
        found = await self.session.get(TaskList, list_id)
        if found is None:
            raise NotFound("no such list")
        await access.require(
            self.ctx,
            found,
            Capability.LISTS_MANAGE,
            noun="list",
            what=f"{found.name} list",
            doing=doing,
        )
        return found

    # --- helpers -----------------------------------------------------------

    async def _all_lists(self) -> list[TaskList]:
        """The user's own lists and those shared with a household that lets them read."""
        clause = await access.visible(self.ctx, TaskList, Capability.LISTS_READ)
        return list(await self.session.exec(select(TaskList).where(clause)))

    def _checked_rule(self, rule: str | None, due_at: datetime | None) -> str | None:
        if not rule:
            return None
        if due_at is None:
            raise SkillError("a repeating task needs a due date to repeat from")
        return normalize_rule(rule, due_at.astimezone(self.ctx.tz))

    def _set_status(self, task: Task, status: TaskStatus) -> None:
        task.status = status
        task.completed_at = self.ctx.now() if status == TaskStatus.DONE else None

    def _roll_forward(self, task: Task) -> datetime | None:
        """Move a repeating task to its next occurrence; None if it does not repeat
        (or its rule has run out), in which case it simply completes."""
        if not task.recurrence or task.due_at is None:
            return None
        after = max(task.due_at, self.ctx.now())
        next_due = next_after(task.recurrence, task.due_at, after, self.ctx.tz)
        if next_due is None:
            return None
        if task.remind_at is not None:
            # Keep the reminder the same wall-clock distance before the due time.
            tz = self.ctx.tz
            lead = task.due_at.astimezone(tz).replace(tzinfo=None) - task.remind_at.astimezone(
                tz
            ).replace(tzinfo=None)
            task.remind_at = (next_due.replace(tzinfo=None) - lead).replace(tzinfo=tz)
        task.due_at = next_due
        done = [*task.meta.get("completions", []), self.ctx.now().isoformat()]
        task.meta = {**task.meta, "completions": done}
        return next_due
