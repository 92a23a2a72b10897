"""Where the money went: totals by category, merchant, project or month, the biggest
expenses, month-over-month change, and a project's job costing."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, func
from sqlmodel import col, select

from skills.access import Capability
from skills.context import SkillContext, SkillError
from skills.finance.books import books
from skills.finance.money import currency_code, rounded
from skills.finance.schemas import (
    CostLine,
    GroupBy,
    JobCosting,
    MonthChange,
    Period,
    Summary,
    SummaryRow,
)
from skills.projects import ProjectService
from store.models import Category, Invoice, InvoiceStatus, Project, Transaction, TransactionKind

ZERO = Decimal(0)
FIRST_COMPARABLE = date(1, 2, 1)
LAST_COMPARABLE = date(9999, 11, 1)


class FinanceReports:
    """Reports on the user's own money, or on a household's books (``household_id``),
    which their role there must let them read."""

    def __init__(self, ctx: SkillContext, household_id: uuid.UUID | None = None) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self.household_id = household_id

    async def _scope(
        self,
        period: Period | None,
        kind: TransactionKind,
        currency: str,
        whose: ColumnElement[bool] | None = None,
    ) -> list[ColumnElement[bool]]:
        conditions = [
            whose if whose is not None else await books(self.ctx, self.household_id),
            Transaction.kind == kind,
            Transaction.currency == currency,
        ]
        if period is not None:
            conditions += [
                col(Transaction.occurred_on) >= period.start,
                col(Transaction.occurred_on) < period.end,
            ]
        return conditions

    async def summary(
        self,
        period: Period,
        by: GroupBy = GroupBy.CATEGORY,
        kind: TransactionKind = TransactionKind.EXPENSE,
        currency: str | None = None,
    ) -> Summary:
        code = currency_code(currency or self.ctx.settings.currency)
        total_col = func.sum(Transaction.amount).label("total")
        count_col = func.count().label("n")
        where = await self._scope(period, kind, code)
        if by == GroupBy.CATEGORY:
            statement = (
                select(Category.name, total_col, count_col)
                .select_from(Transaction)
                .outerjoin(Category, col(Category.id) == Transaction.category_id)
                .group_by(Category.name)
            )
        elif by == GroupBy.PROJECT:
            statement = (
                select(Project.name, total_col, count_col)
                .select_from(Transaction)
                .outerjoin(Project, col(Project.id) == Transaction.project_id)
                .group_by(Project.name)
            )
        elif by == GroupBy.MERCHANT:
            statement = select(Transaction.merchant, total_col, count_col).group_by(
                Transaction.merchant
            )
        else:
            statement = select(Transaction.occurred_on, total_col, count_col).group_by(
                Transaction.occurred_on
            )
        rows = (await self.session.exec(statement.where(*where))).all()
        if by == GroupBy.MONTH:  # grouped by day in SQL (portable), folded into months here
            months: dict[str, list] = {}
            for day, amount, count in rows:
                entry = months.setdefault(day.strftime("%Y-%m"), [ZERO, 0])
                entry[0] += amount
                entry[1] += count
            rows = [(key, amount, count) for key, (amount, count) in sorted(months.items())]
        result = [
            SummaryRow(key=key or "(none)", total=total, count=count) for key, total, count in rows
        ]
        if by != GroupBy.MONTH:
            result.sort(key=lambda row: (-row.total, row.key))
        return Summary(
            start=period.start,
            end=period.end,
            currency=code,
            kind=kind,
            total=sum((r.total for r in result), ZERO),
            rows=result,
        )

    async def biggest(self, period: Period, limit: int = 5) -> list[Transaction]:
        where = await self._scope(period, TransactionKind.EXPENSE, self.ctx.settings.currency)
        statement = (
            select(Transaction)
            .where(*where)
            .order_by(col(Transaction.amount).desc(), col(Transaction.occurred_on))
            .limit(limit)
        )
        return list(await self.session.exec(statement))

    async def month_over_month(self, month: date) -> list[MonthChange]:
        this_start = month.replace(day=1)
        if not FIRST_COMPARABLE <= this_start <= LAST_COMPARABLE:
            # The month before and the month after must exist as dates too.
            raise SkillError(
                "month-over-month works for months from February of year 1 to November of 9999"
            )
        last_start = this_start - relativedelta(months=1)
        next_start = this_start + relativedelta(months=1)
        this = await self.summary(Period(start=this_start, end=next_start))
        last = await self.summary(Period(start=last_start, end=this_start))
        now_by = {r.key: r.total for r in this.rows}
        then_by = {r.key: r.total for r in last.rows}
        changes = []
        for name in sorted(set(now_by) | set(then_by)):
            now, then = now_by.get(name, ZERO), then_by.get(name, ZERO)
            percent = _percent(now - then, then)
            changes.append(
                MonthChange(
                    category=name,
                    this_month=now,
                    last_month=then,
                    change=now - then,
                    change_percent=percent,
                )
            )
        changes.sort(key=lambda c: -abs(c.change))
        return changes

    async def calculate_job_costing(self, project_ref: str | uuid.UUID) -> JobCosting:
        """Revenue, costs by category, margin, budget against actual, top cost drivers."""
        project = await ProjectService(self.ctx).money_of(project_ref, Capability.MONEY_READ)
        code = project.currency
        # Whoever recorded it: only those who may see the project can put money on it.
        on_project = Transaction.project_id == project.id
        costs_rows = (
            await self.session.exec(
                select(Category.name, func.sum(Transaction.amount))
                .select_from(Transaction)
                .outerjoin(Category, col(Category.id) == Transaction.category_id)
                .where(*await self._scope(None, TransactionKind.EXPENSE, code, on_project))
                .group_by(Category.name)
            )
        ).all()
        by_category = sorted(
            (CostLine(name=name or "Uncategorized", total=total) for name, total in costs_rows),
            key=lambda c: (-c.total, c.name),
        )
        revenue = (
            await self.session.exec(
                select(func.sum(Transaction.amount)).where(
                    *await self._scope(None, TransactionKind.INCOME, code, on_project)
                )
            )
        ).one() or ZERO
        invoices = list(
            await self.session.exec(
                select(Invoice).where(
                    Invoice.project_id == project.id,
                    col(Invoice.status).in_([InvoiceStatus.SENT, InvoiceStatus.PAID]),
                )
            )
        )
        invoiced = sum((i.total for i in invoices), ZERO)
        outstanding = sum((i.total for i in invoices if i.status == InvoiceStatus.SENT), ZERO)
        costs = sum((c.total for c in by_category), ZERO)
        margin = revenue - costs
        budget = project.budget
        return JobCosting(
            project=project.name,
            currency=code,
            revenue=revenue,
            invoiced=invoiced,
            outstanding=outstanding,
            costs=costs,
            costs_by_category=by_category,
            margin=margin,
            margin_percent=_percent(margin, revenue),
            budget=budget,
            budget_used_percent=_percent(costs, budget) if budget else None,
            budget_remaining=rounded(budget - costs, code) if budget is not None else None,
            top_cost_drivers=await self._top_merchants(project.id, code),
        )

    async def _top_merchants(self, project_id: uuid.UUID, code: str) -> list[CostLine]:
        rows = (
            await self.session.exec(
                select(Transaction.merchant, func.sum(Transaction.amount).label("total"))
                .where(
                    *await self._scope(
                        None, TransactionKind.EXPENSE, code, Transaction.project_id == project_id
                    ),
                )
                .group_by(Transaction.merchant)
            )
        ).all()
        lines = [CostLine(name=name or "(no merchant)", total=total) for name, total in rows]
        return sorted(lines, key=lambda c: (-c.total, c.name))[:3]


def _percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    if not whole:
        return None
    return (part / whole * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
