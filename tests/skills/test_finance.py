"""Money as a household or a contractor uses it: exact amounts, categories that
learn, summaries, job costing, and clear refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from skills.context import NotFound, SkillContext, SkillError
from skills.finance.reports import FinanceReports
from skills.finance.schemas import (
    GroupBy,
    Period,
    ProjectCreate,
    TransactionCreate,
    TransactionQuery,
    TransactionUpdate,
)
from skills.finance.service import FinanceService
from skills.history import undo_last
from skills.projects import ProjectService
from store.models import TransactionKind


def spend(amount: str, merchant: str, day: str = "2026-03-03", **more: object) -> TransactionCreate:
    return TransactionCreate(
        amount=Decimal(amount), merchant=merchant, occurred_on=date.fromisoformat(day), **more
    )


async def category_of(finance: FinanceService, transaction) -> str:
    [public] = await finance.public([transaction])
    return public.category


async def test_amounts_are_exact_and_defaults_apply(ctx: SkillContext) -> None:
    finance = FinanceService(ctx)
    logged = await finance.log(TransactionCreate(amount=Decimal("4.50"), merchant="Starbucks"))
    assert logged.amount == Decimal("4.50") and logged.currency == "USD"
    assert logged.occurred_on == date(2026, 3, 4)  # today in New York
    assert await category_of(finance, logged) == "Coffee"
    assert logged.meta["category_confidence"] == 0.8


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": Decimal("4.505")}, "at most 2 decimal places"),
        ({"amount": Decimal("100.5"), "currency": "JPY"}, "at most 0 decimal places"),
        ({"amount": Decimal("1"), "currency": "XQZ"}, "not a currency I know"),
        ({"amount": Decimal("-20")}, "more than zero"),
        ({"amount": Decimal("0")}, "more than zero"),
    ],
)
async def test_bad_amounts_are_refused(ctx: SkillContext, fields: dict, message: str) -> None:
    finance = FinanceService(ctx)
    with pytest.raises(SkillError, match=message):
        await finance.log(TransactionCreate(merchant="x", **fields))
    assert await finance.search(TransactionQuery()) == []


async def test_three_decimal_currency(ctx: SkillContext) -> None:
    logged = await FinanceService(ctx).log(
        TransactionCreate(amount=Decimal("12.345"), currency="bhd", merchant="Souq")
    )
    assert (logged.amount, logged.currency) == (Decimal("12.345"), "BHD")


async def test_a_correction_teaches_the_merchant(ctx: SkillContext) -> None:
    finance = FinanceService(ctx)
    first = await finance.log(spend("6.25", "Blue Bottle"))
    assert await category_of(finance, first) == "Other"
    assert first.meta["category_confidence"] == 0.3

    await finance.recategorize(first.id, "coffee")
    assert await category_of(finance, first) == "Coffee"

    second = await finance.log(spend("5.75", "BLUE BOTTLE #0457"))
    assert await category_of(finance, second) == "Coffee"
    assert second.meta["category_reason"] == "learned"
    assert second.meta["category_confidence"] == 0.95

    elsewhere = await finance.log(spend("5.75", "Blue Bottle SF Ferry Bldg"))
    assert await category_of(finance, elsewhere) == "Coffee"  # a similar merchant name

    await undo_last(ctx)  # undo the third log
    await undo_last(ctx)  # and the second
    await undo_last(ctx)  # undo the correction: the rule goes, the category comes back
    assert await category_of(finance, await finance.get(first.id)) == "Other"
    third = await finance.log(spend("5.75", "BLUE BOTTLE #0457"))
    assert await category_of(finance, third) == "Other"


async def test_editing_the_category_is_a_correction_too(ctx: SkillContext) -> None:
    finance = FinanceService(ctx)
    first = await finance.log(spend("80", "Joe's Lumber Yard"))
    await finance.update(first.id, TransactionUpdate(category="Materials"))
    second = await finance.log(spend("45", "Joe's Lumber Yard"))
    assert await category_of(finance, second) == "Materials"


async def test_past_transactions_can_be_refiled(ctx: SkillContext) -> None:
    finance = FinanceService(ctx)
    a = await finance.log(spend("3", "Corner Shop"))
    b = await finance.log(spend("4", "CORNER SHOP 22"))
    _, count = await finance.recategorize(a.id, "Groceries", apply_to_past=True)
    assert count == 2
    assert await category_of(finance, await finance.get(b.id)) == "Groceries"


async def test_summaries(ctx: SkillContext) -> None:
    finance = FinanceService(ctx)
    for amount, merchant, day in [
        ("4.50", "Starbucks", "2026-02-10"),
        ("120.00", "Whole Foods", "2026-02-12"),
        ("5.00", "Starbucks", "2026-03-01"),
        ("80.10", "Safeway", "2026-03-02"),
        ("1500", "Landlord rent", "2026-03-01"),
        ("42.50", "Pizza Place", "2026-03-03"),
    ]:
        await finance.log(spend(amount, merchant, day))
    await finance.log(
        TransactionCreate(
            kind=TransactionKind.INCOME,
            amount=Decimal("3000"),
            merchant="Acme payroll",
            occurred_on=date(2026, 3, 1),
        )
    )
    reports = FinanceReports(ctx)
    march = Period(start=date(2026, 3, 1), end=date(2026, 4, 1))

    by_category = await reports.summary(march)
    assert [(r.key, r.total) for r in by_category.rows] == [
        ("Rent", Decimal("1500.00")),
        ("Groceries", Decimal("80.10")),
        ("Dining out", Decimal("42.50")),
        ("Coffee", Decimal("5.00")),
    ]
    assert by_category.total == Decimal("1627.60")
    by_merchant = await reports.summary(march, GroupBy.MERCHANT)
    assert by_merchant.rows[0].key == "Landlord rent"
    earned = await reports.summary(march, kind=TransactionKind.INCOME)
    assert earned.total == Decimal("3000")
    months = await reports.summary(
        Period(start=date(2026, 1, 1), end=date(2026, 4, 1)), GroupBy.MONTH
    )
    assert [(r.key, r.total) for r in months.rows] == [
        ("2026-02", Decimal("124.50")),
        ("2026-03", Decimal("1627.60")),
    ]
    biggest = await reports.biggest(march, limit=2)
    assert [t.merchant for t in biggest] == ["Landlord rent", "Safeway"]
    changes = {c.category: c for c in await reports.month_over_month(date(2026, 3, 15))}
    assert changes["Groceries"].change == Decimal("-39.90")
    assert changes["Groceries"].change_percent == Decimal("-33.3")
    assert changes["Rent"].change_percent is None  # nothing last month to compare with


async def test_job_costing(ctx: SkillContext) -> None:
    await ProjectService(ctx).create(
        ProjectCreate(name="Kitchen remodel", client="The Smiths", budget=Decimal("10000"))
    )
    finance = FinanceService(ctx)
    for amount, merchant in [
        ("2400", "Home Depot"),
        ("600", "Tile Shop"),
        ("1800", "Mike subcontractor"),
    ]:
        await finance.log(spend(amount, merchant, project="kitchen remodel"))
    await finance.log(
        TransactionCreate(
            kind=TransactionKind.INCOME,
            amount=Decimal("8000"),
            merchant="The Smiths",
            project="Kitchen Remodel",
        )
    )
    costing = await finance.calculate_job_costing("kitchen remodel")  # the design's name
    assert costing.revenue == Decimal("8000")
    assert costing.costs == Decimal("4800")
    assert [(c.name, c.total) for c in costing.costs_by_category] == [
        ("Materials", Decimal("3000")),
        ("Labour", Decimal("1800")),
    ]
    assert costing.margin == Decimal("3200") and costing.margin_percent == Decimal("40.0")
    assert costing.budget_used_percent == Decimal("48.0")
    assert costing.budget_remaining == Decimal("5200.00")
    assert costing.top_cost_drivers[0].name == "Home Depot"
    with pytest.raises(NotFound):
        await FinanceReports(ctx).calculate_job_costing("bathroom")


async def test_another_users_money_is_invisible(ctx: SkillContext, other: SkillContext) -> None:
    mine = await FinanceService(ctx).log(spend("99", "Secret shop"))
    theirs = FinanceService(other)
    for attempt in (
        theirs.get(mine.id),
        theirs.update(mine.id, TransactionUpdate(amount=Decimal(1))),
        theirs.delete(mine.id),
        theirs.recategorize(mine.id, "Coffee"),
        theirs.categorize_transaction(mine.id),
    ):
        with pytest.raises(NotFound):
            await attempt
    assert await theirs.search(TransactionQuery()) == []
    summary = await FinanceReports(other).summary(
        Period(start=date(2026, 1, 1), end=date(2027, 1, 1))
    )
    assert summary.rows == []
