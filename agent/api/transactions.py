"""/v1/transactions and /v1/categories: the signed-in user's money, and the books of
the households whose role lets them keep them (decided in the finance skill)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ValidationError

from agent.api.deps import SkillCtx
from skills.finance.reports import FinanceReports
from skills.finance.schemas import (
    CategoryCreate,
    CategoryPublic,
    GroupBy,
    MonthChange,
    Period,
    Recategorize,
    Summary,
    TransactionCreate,
    TransactionPublic,
    TransactionQuery,
    TransactionUpdate,
)
from skills.finance.service import FinanceService
from store.models import TransactionKind

router = APIRouter(tags=["money"])
# A household's books instead of one's own money: 403 for a role that may not read them.
Books = Annotated[uuid.UUID | None, Query(description="A household's books, not your own")]


class CategoryChoice(BaseModel):
    category: str
    confidence: float
    reason: str


class Refiled(BaseModel):
    transaction: TransactionPublic
    refiled: int


def _period(start: date, end: date) -> Period:
    try:
        return Period(start=start, end=end)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _message(exc)) from exc


def _message(exc: ValidationError) -> str:
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())


async def _one(finance: FinanceService, transaction) -> TransactionPublic:
    [public] = await finance.public([transaction])
    return public


@router.get("/v1/transactions", response_model=list[TransactionPublic])
async def search(
    ctx: SkillCtx, query: Annotated[TransactionQuery, Query()]
) -> list[TransactionPublic]:
    finance = FinanceService(ctx)
    return await finance.public(await finance.search(query))


@router.post(
    "/v1/transactions",
    response_model=TransactionPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Record an expense or income (category chosen when not given)",
)
async def create(ctx: SkillCtx, body: TransactionCreate) -> TransactionPublic:
    finance = FinanceService(ctx)
    return await _one(finance, await finance.log(body))


@router.get("/v1/transactions/summary", response_model=Summary)
async def summary(
    ctx: SkillCtx,
    start: date,
    end: date,
    by: GroupBy = GroupBy.CATEGORY,
    kind: TransactionKind = TransactionKind.EXPENSE,
    currency: str | None = None,
    household_id: Books = None,
) -> Summary:
    reports = FinanceReports(ctx, household_id)
    return await reports.summary(_period(start, end), by, kind, currency)


@router.get("/v1/transactions/biggest", response_model=list[TransactionPublic])
async def biggest(
    ctx: SkillCtx, start: date, end: date, limit: int = 5, household_id: Books = None
) -> list[TransactionPublic]:
    reports = FinanceReports(ctx, household_id)
    found = await reports.biggest(_period(start, end), min(max(limit, 1), 50))
    return await FinanceService(ctx).public(found)


@router.get("/v1/transactions/month-over-month", response_model=list[MonthChange])
async def month_over_month(
    ctx: SkillCtx, month: date, household_id: Books = None
) -> list[MonthChange]:
    return await FinanceReports(ctx, household_id).month_over_month(month)


@router.get("/v1/transactions/{transaction_id}", response_model=TransactionPublic)
async def read(ctx: SkillCtx, transaction_id: uuid.UUID) -> TransactionPublic:
    finance = FinanceService(ctx)
    return await _one(finance, await finance.get(transaction_id))


@router.patch(
    "/v1/transactions/{transaction_id}",
    response_model=TransactionPublic,
    summary="Change a transaction; a new category is learned for its merchant",
)
async def update(
    ctx: SkillCtx, transaction_id: uuid.UUID, body: TransactionUpdate
) -> TransactionPublic:
    finance = FinanceService(ctx)
    return await _one(finance, await finance.update(transaction_id, body))


@router.delete("/v1/transactions/{transaction_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(ctx: SkillCtx, transaction_id: uuid.UUID) -> None:
    await FinanceService(ctx).delete(transaction_id)


@router.post(
    "/v1/transactions/{transaction_id}/categorize",
    response_model=CategoryChoice,
    summary="Choose the category again, with how sure the choice is",
)
async def categorize(ctx: SkillCtx, transaction_id: uuid.UUID) -> CategoryChoice:
    choice = await FinanceService(ctx).categorize_transaction(transaction_id)
    return CategoryChoice(
        category=choice.category, confidence=choice.confidence, reason=choice.reason
    )


@router.post(
    "/v1/transactions/{transaction_id}/recategorize",
    response_model=Refiled,
    summary="File under a category and learn the merchant",
)
async def recategorize(ctx: SkillCtx, transaction_id: uuid.UUID, body: Recategorize) -> Refiled:
    finance = FinanceService(ctx)
    transaction, count = await finance.recategorize(
        transaction_id, body.category, apply_to_past=body.apply_to_past
    )
    return Refiled(transaction=await _one(finance, transaction), refiled=count)


# A household's category set: used by a role that adds to its books, added to by one
# that keeps them.
CategorySetOf = Annotated[
    uuid.UUID | None, Query(description="A household's category set, not your own")
]


@router.get("/v1/categories", response_model=list[CategoryPublic])
async def categories(ctx: SkillCtx, household_id: CategorySetOf = None) -> list[CategoryPublic]:
    return [
        CategoryPublic(id=c.id, name=c.name, kind=c.kind)
        for c in await FinanceService(ctx).categories(household_id)
    ]


@router.post("/v1/categories", response_model=CategoryPublic, status_code=status.HTTP_201_CREATED)
async def create_category(
    ctx: SkillCtx, body: CategoryCreate, household_id: CategorySetOf = None
) -> CategoryPublic:
    made = await FinanceService(ctx).category_named(
        body.name, create=True, kind=body.kind, household_id=household_id
    )
    return CategoryPublic(id=made.id, name=made.name, kind=made.kind)
