"""/v1/tasks: the signed-in user's tasks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from agent.api.deps import SkillCtx
from skills.tasks.schemas import TaskCreate, TaskPublic, TaskQuery, TaskUpdate
from skills.tasks.service import TaskService

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskPublic], summary="Search tasks")
async def search_tasks(ctx: SkillCtx, query: Annotated[TaskQuery, Query()]) -> list[TaskPublic]:
    service = TaskService(ctx)
    return await service.public(await service.search(query))


@router.post("", response_model=TaskPublic, status_code=status.HTTP_201_CREATED)
async def create_task(ctx: SkillCtx, body: TaskCreate) -> TaskPublic:
    service = TaskService(ctx)
    [task] = await service.public([await service.create(body)])
    return task


@router.get("/{task_id}", response_model=TaskPublic)
async def read_task(ctx: SkillCtx, task_id: uuid.UUID) -> TaskPublic:
    service = TaskService(ctx)
    [task] = await service.public([await service.get(task_id)])
    return task


@router.patch("/{task_id}", response_model=TaskPublic)
async def update_task(ctx: SkillCtx, task_id: uuid.UUID, body: TaskUpdate) -> TaskPublic:
    service = TaskService(ctx)
    [task] = await service.public([await service.update(task_id, body)])
    return task


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(ctx: SkillCtx, task_id: uuid.UUID) -> None:
    await TaskService(ctx).delete(task_id)


@router.post("/{task_id}/complete", response_model=TaskPublic, summary="Complete (or roll forward)")
async def complete_task(ctx: SkillCtx, task_id: uuid.UUID) -> TaskPublic:
    service = TaskService(ctx)
    [task] = await service.public([(await service.complete(task_id)).task])
    return task


@router.post("/{task_id}/reopen", response_model=TaskPublic)
async def reopen_task(ctx: SkillCtx, task_id: uuid.UUID) -> TaskPublic:
    service = TaskService(ctx)
    [task] = await service.public([await service.reopen(task_id)])
    return task
