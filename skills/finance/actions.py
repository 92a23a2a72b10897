"""Finance actions for the conversation: spend, earn, ask, re-file, bill, cost a job."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from skills.access import Capability
from skills.actions import Action, Outcome
from skills.context import NotFound, SkillContext
from skills.finance.books import books, household_name, our_household
from skills.finance.invoices import InvoiceService
from skills.finance.reports import FinanceReports
from skills.finance.schemas import (
    GroupBy,
    InvoiceCreate,
    Period,
    TransactionCreate,
    TransactionQuery,
)
from skills.finance.service import FinanceService
from store.models import TransactionKind


class MoneyIn(BaseModel):
    """An expense or income as said: "$42.50 at Home Depot for the kitchen job"."""

    model_config = ConfigDict(extra="forbid")

    amount: Decimal
    currency: str | None = None
    merchant: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=500)
    category: str | None = Field(default=None, max_length=100)
    project: str | None = Field(default=None, max_length=200)
    occurred_on: date | None = None


class FinanceAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date
    end: date = Field(description="Exclusive")
    by: GroupBy | None = None
    kind: TransactionKind = TransactionKind.EXPENSE
    category: str | None = None
    merchant: str | None = None
    project: str | None = None
    together: bool = Field(
        default=False,
        description='Asked as "we" or "our": the household\'s books, not only the user\'s own',
    )


class Refile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transaction_id: uuid.UUID | None = None
    merchant: str | None = Field(default=None, description="Its latest transaction")
    category: str = Field(min_length=1, max_length=100)
    apply_to_past: bool = False

    @model_validator(mode="after")
    def _which(self) -> Refile:
        if self.transaction_id is None and not self.merchant:
            raise ValueError("say which transaction: an id or a merchant")
        return self


class ProjectRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str


async def _log(ctx: SkillContext, args: MoneyIn, kind: TransactionKind) -> Outcome:
    finance = FinanceService(ctx)
    logged = await finance.log(TransactionCreate(kind=kind, **args.model_dump()))
    [public] = await finance.public([logged])
    facts = {
        "amount": logged.amount,
        "currency": logged.currency,
        "merchant": logged.merchant,
        "category": public.category,
        "confidence": public.category_confidence,
        "project": public.project,
        "occurred_on": logged.occurred_on,
    }
    return Outcome(f"finance.{kind.value}", facts, [public.model_dump(mode="json")])


async def log_expense(ctx: SkillContext, args: MoneyIn) -> Outcome:
    return await _log(ctx, args, TransactionKind.EXPENSE)


async def log_income(ctx: SkillContext, args: MoneyIn) -> Outcome:
    return await _log(ctx, args, TransactionKind.INCOME)


async def ask(ctx: SkillContext, args: FinanceAsk) -> Outcome:
    period = Period(start=args.start, end=args.end)
    household_id = await our_household(ctx) if args.together else None
    whose = {"household": await household_name(ctx, household_id)}
    if args.category or args.merchant or args.project:
        finance = FinanceService(ctx)
        found = await finance.search(
            TransactionQuery(
                start=args.start,
                end=args.end,
                kind=args.kind,
                category=args.category,
                merchant=args.merchant,
                project=args.project,
            ),
            await books(ctx, household_id),  # "I": one's own rows, not all one may see
        )
        total = sum((t.amount for t in found if t.currency == ctx.settings.currency), Decimal(0))
        facts = {
            "total": total,
            "currency": ctx.settings.currency,
            "count": len(found),
            "kind": args.kind,
            "start": args.start,
            "end": args.end,
            "category": args.category,
            "merchant": args.merchant,
            "project": args.project,
            **whose,
        }
        records = [t.model_dump(mode="json") for t in await finance.public(found)]
        return Outcome("finance.query", facts, records, changed=False)
    summary = await FinanceReports(ctx, household_id).summary(
        period, args.by or GroupBy.CATEGORY, args.kind
    )
    facts = {
        "total": summary.total,
        "currency": summary.currency,
        "kind": args.kind,
        "start": args.start,
        "end": args.end,
        "by": (args.by or GroupBy.CATEGORY).value,
        "top": [{"name": r.key, "total": r.total} for r in summary.rows[:3]],
        **whose,
    }
    return Outcome(
        "finance.query", facts, [r.model_dump(mode="json") for r in summary.rows], changed=False
    )


async def refile(ctx: SkillContext, args: Refile) -> Outcome:
    finance = FinanceService(ctx)
    target_id = args.transaction_id
    if target_id is None:
        latest = await finance.search(TransactionQuery(merchant=args.merchant, limit=1))
        if not latest:
            raise NotFound(f"I couldn't find a transaction from “{args.merchant}”")
        target_id = latest[0].id
    transaction, count = await finance.recategorize(
        target_id, args.category, apply_to_past=args.apply_to_past
    )
    [public] = await finance.public([transaction])
    facts = {"merchant": transaction.merchant, "category": public.category, "count": count}
    return Outcome("finance.recategorize", facts, [public.model_dump(mode="json")])


async def invoice(ctx: SkillContext, args: InvoiceCreate) -> Outcome:
    service = InvoiceService(ctx)
    made = await service.public(await service.generate_invoice(args))
    facts = {
        "number": made.number,
        "client": made.client,
        "total": made.total,
        "currency": made.currency,
        "due_on": made.due_on,
        "project": made.project,
    }
    return Outcome("finance.invoice", facts, [made.model_dump(mode="json")])


async def job_costing(ctx: SkillContext, args: ProjectRef) -> Outcome:
    costing = await FinanceReports(ctx).calculate_job_costing(args.project)
    facts = costing.model_dump(
        include={
            "project",
            "currency",
            "revenue",
            "costs",
            "margin",
            "margin_percent",
            "budget_used_percent",
        }
    )
    facts["top_cost"] = costing.top_cost_drivers[0].name if costing.top_cost_drivers else None
    return Outcome("finance.job_costing", facts, [costing.model_dump(mode="json")], changed=False)


FINANCE_ACTIONS = [
    Action(
        "finance.expense",
        "Record money spent.",
        MoneyIn,
        log_expense,
        needs=Capability.MONEY_WRITE,
        replies={
            "merchant_category": "Logged {amount} at {merchant} under {category}.",
            "merchant": "Logged {amount} at {merchant}.",
            "category": "Logged {amount} under {category}.",
            "plain": "Logged {amount}.",
        },
        proposals=(
            "Log {amount} at {merchant}?",
            "Log {amount} for {description}?",
            "Log {amount} spent?",
        ),
        questions={"amount": "How much was it?"},
    ),
    Action(
        "finance.income",
        "Record money received.",
        MoneyIn,
        log_income,
        needs=Capability.MONEY_WRITE,
        replies={
            "merchant_category": "Recorded {amount} income from {merchant} under {category}.",
            "merchant": "Recorded {amount} income from {merchant}.",
            "category": "Recorded {amount} income under {category}.",
            "plain": "Recorded {amount} income.",
        },
        proposals=("Record {amount} income from {merchant}?", "Record {amount} income?"),
        questions={"amount": "How much was it?"},
    ),
    Action(
        "finance.query",
        "How much was spent or earned, by what, in a period.",
        FinanceAsk,
        ask,
        needs=Capability.MONEY_READ,
        replies={
            "spent_on": "{who} spent {total} on {category} {period}.",
            "spent": "{who} spent {total} {period}.",
            "earned_on": "{who} earned {total} on {category} {period}.",
            "earned": "{who} earned {total} {period}.",
            "top": " Most went to {top}.",
        },
        proposals=("Add up what you spent on {category}?", "Add up your money?"),
    ),
    Action(
        "finance.recategorize",
        "File a transaction (and its merchant) under a category.",
        Refile,
        refile,
        needs=Capability.MONEY_WRITE,
        replies={
            "one": "Filed {merchant} under {category}. I'll remember that.",
            "many": "Filed {merchant} and {more} more under {category}. I'll remember that.",
        },
        proposals=("File {merchant} under {category}?",),
    ),
    Action(
        "finance.invoice",
        "Bill a project's open work on a new invoice.",
        InvoiceCreate,
        invoice,
        needs=Capability.MONEY_WRITE,
        replies={
            "client": "Invoice {number} to {client} for {total} is ready, due {due}.",
            "plain": "Invoice {number} for {total} is ready, due {due}.",
        },
        proposals=("Create an invoice for {project}?",),
        questions={"project": "Which project should I bill?"},
        confirm=True,
    ),
    Action(
        "finance.job_costing",
        "Revenue, costs and margin of a project.",
        ProjectRef,
        job_costing,
        needs=Capability.MONEY_READ,
        replies={
            "margin_budget": "{project}: {revenue} in, {costs} out, a {margin} percent margin."
            " {budget} percent of the budget is spent.",
            "margin": "{project}: {revenue} in, {costs} out, a {margin} percent margin.",
            "budget": "{project}: {revenue} in, {costs} out."
            " {budget} percent of the budget is spent.",
            "plain": "{project}: {revenue} in, {costs} out.",
        },
        proposals=("Work out the numbers for {project}?",),
        questions={"project": "Which project?"},
    ),
]
