"""/v1/bank: link a bank through Plaid and pull its transactions."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from agent.api.deps import SkillCtx
from agent.api.errors import UNREACHABLE
from skills.finance.bank import BankService, BankSync

router = APIRouter(
    prefix="/v1/bank",
    tags=["bank"],
    responses={503: {"description": "Bank linking is not set up (no Plaid keys)"}, **UNREACHABLE},
)


class LinkToken(BaseModel):
    link_token: str


class Connect(BaseModel):
    public_token: str = Field(min_length=1, max_length=500, description="From Plaid Link")
    institution: str | None = Field(default=None, max_length=200)
    household_id: uuid.UUID | None = Field(
        default=None, description="Feed this household's books (a role that keeps them)"
    )


class SyncCounts(BaseModel):
    added: int
    modified: int
    removed: int


class BankLinkPublic(BaseModel):
    id: uuid.UUID
    item_id: str
    household_id: uuid.UUID | None = None
    institution: str | None
    last_synced_at: datetime | None


class Connected(BaseModel):
    link: BankLinkPublic
    sync: SyncCounts


def _counts(result: BankSync) -> SyncCounts:
    return SyncCounts(added=result.added, modified=result.modified, removed=result.removed)


@router.post("/link-token", response_model=LinkToken, summary="Start Plaid Link")
async def link_token(ctx: SkillCtx) -> LinkToken:
    return LinkToken(link_token=await BankService(ctx).link_token())


@router.post(
    "/links",
    response_model=Connected,
    status_code=status.HTTP_201_CREATED,
    summary="Connect the bank Link returned, and pull its transactions",
)
async def connect(ctx: SkillCtx, body: Connect) -> Connected:
    link, result = await BankService(ctx).connect_bank(
        body.public_token, body.institution, body.household_id
    )
    return Connected(link=BankLinkPublic.model_validate(link.model_dump()), sync=_counts(result))


@router.get(
    "/links",
    response_model=list[BankLinkPublic],
    summary="Your bank feeds, and those of the households whose books you keep",
)
async def links(ctx: SkillCtx) -> list[BankLinkPublic]:
    return [
        BankLinkPublic.model_validate(link.model_dump()) for link in await BankService(ctx).links()
    ]


@router.post("/links/{link_id}/sync", response_model=SyncCounts)
async def sync(ctx: SkillCtx, link_id: uuid.UUID) -> SyncCounts:
    return _counts(await BankService(ctx).sync(link_id))


@router.delete("/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
async def disconnect(ctx: SkillCtx, link_id: uuid.UUID) -> None:
    await BankService(ctx).disconnect(link_id)
