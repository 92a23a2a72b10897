"""/v1/lists: named lists, matched by the name a person says."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from agent.api.deps import SkillCtx
from skills.context import NotFound, SkillContext
from skills.tasks.schemas import ListCreate, ListPublic, ListShare
from skills.tasks.service import TaskService

router = APIRouter(prefix="/v1/lists", tags=["lists"])


@router.get("", response_model=list[ListPublic], summary="Lists with their open task counts")
async def read_lists(ctx: SkillCtx) -> list[ListPublic]:
    return await TaskService(ctx).lists()


@router.get("/match", response_model=ListPublic, summary="The list a spoken name means")
async def match_list(ctx: SkillCtx, name: str) -> ListPublic:
    service = TaskService(ctx)
    found = await service.find_list(name)
    if found is None:
        raise NotFound(f"no list like “{name}”")
    return next(item for item in await service.lists() if item.id == found.id)


@router.post("", response_model=ListPublic, status_code=status.HTTP_201_CREATED)
async def create_list(ctx: SkillCtx, body: ListCreate) -> ListPublic:
    service = TaskService(ctx)
    return await service.list_public(await service.create_list(body.name))


@router.patch(
    "/{list_id}", response_model=ListPublic, summary="Share a list with a household, or stop"
)
async def share_list(ctx: SkillCtx, list_id: uuid.UUID, body: ListShare) -> ListPublic:
    return await share(ctx, list_id, body.household_id)


async def share(
    ctx: SkillContext, list_id: uuid.UUID, household_id: uuid.UUID | None
) -> ListPublic:
    """Share a list (None: take it back), and show it as its sharer now sees it."""
    service = TaskService(ctx)
    found = await service.share_list(list_id, household_id)
    # An admin who unshares another member's list no longer sees it in their lists.
    listed = [item for item in await service.lists() if item.id == list_id]
    return listed[0] if listed else await service.list_public(found)


@router.delete(
    "/{list_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a list and its tasks"
)
async def delete_list(ctx: SkillCtx, list_id: uuid.UUID) -> None:
    await TaskService(ctx).delete_list(list_id)
