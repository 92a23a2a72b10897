"""DataLoaders: a field asked of many records is read for all of them in one query."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sqlmodel import col, select
from strawberry.dataloader import DataLoader

from skills import access
from skills.context import SkillContext
from skills.tasks.schemas import TaskPublic
from skills.tasks.service import TaskService
from store.models import Task, TaskStatus


class Loaders:
    """One set per operation: what they cache is what this user may see now."""

    def __init__(self, work: Callable[[], AbstractAsyncContextManager[SkillContext]]) -> None:
        self._work = work
        self.open_items = DataLoader(self._open_items)

    async def _open_items(self, list_ids: list[uuid.UUID]) -> list[list[TaskPublic]]:
        """The open tasks of each list, by the visibility rule the task search uses."""
        async with self._work() as ctx:
            found = await ctx.session.exec(
                select(Task)
                .where(
                    col(Task.list_id).in_(list_ids),
                    Task.status == TaskStatus.OPEN,
                    await access.visible_tasks(ctx),
                )
                .order_by(col(Task.created_at), col(Task.id))
            )
            shaped = await TaskService(ctx).public(list(found))
        by_list: dict[uuid.UUID | None, list[TaskPublic]] = defaultdict(list)
        for item in shaped:
            by_list[item.list_id].append(item)
        return [by_list[list_id] for list_id in list_ids]
