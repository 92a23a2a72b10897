"""Expenses and income for one user, filed into categories that learn."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import col, select

from skills import access
from skills.access import Capability
from skills.context import NotFound, SkillContext, SkillError
from skills.finance.books import books
from skills.finance.categories import LEARNED, Choice, choose, merchant_key
from skills.finance.category_sets import CategorySet
from skills.finance.money import amount_in, currency_code
from skills.finance.schemas import (
    InvoiceCreate,
    TransactionCreate,
    TransactionPublic,
    TransactionQuery,
    TransactionUpdate,
)
from skills.history import ChangeSet, record_action, snapshot
from skills.projects import find_or_start_project, find_project, project_names
from skills.records import add_unless_taken, like_pattern
from store.models import Account, Category, Transaction, TransactionKind


def filed_under(name: str) -> ColumnElement[bool]:
    """Transactions in a category of this name, whoever's category it is: a household's
    books hold rows filed in the categories of whoever recorded them. "Grocery" finds
    "Groceries" and the other way round, as ``category_named`` does."""
    wanted = name.strip().lower()
    names = {wanted, wanted.rstrip("s"), wanted + "s"}
    if wanted.endswith("ies"):
        names.add(wanted[:-3] + "y")
    elif wanted.endswith("y"):
        names.add(wanted[:-1] + "ies")
    named = select(Category.id).where(func.lower(Category.name).in_(names))
    return col(Transaction.category_id).in_(named)


class FinanceService:
    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self._sets: dict[uuid.UUID | None, CategorySet] = {}  # read once per operation

    # --- categories ----------------------------------------------------------

    def category_set(self, household_id: uuid.UUID | None = None) -> CategorySet:
        """The user's own categories, or a household's (for rows in its books)."""
        if household_id not in self._sets:
            self._sets[household_id] = CategorySet(self.ctx, household_id)
        return self._sets[household_id]

    async def categories(self, household_id: uuid.UUID | None = None) -> list[Category]:
        """The user's categories (or a household's), started on the default set."""
        return await self.category_set(household_id).categories()

    async def category_named(
        self,
        name: str,
        *,
        create: bool = False,
        kind: TransactionKind = TransactionKind.EXPENSE,
        household_id: uuid.UUID | None = None,
    ) -> Category:
        return await self.category_set(household_id).named(name, create=create, kind=kind)

    async def categorize_transaction(self, transaction_id: uuid.UUID) -> Choice:
        """Choose (again) the category of a transaction, and say how sure we are."""
        transaction = await self.get(transaction_id, Capability.MONEY_WRITE)
        choice = await self._choose(
            transaction.merchant, transaction.description, transaction.kind, transaction
        )
        before = snapshot(transaction)
        await self._file(transaction, choice)
        changes = ChangeSet()
        changes.updated(transaction, before)
        record_action(
            self.ctx,
            "finance.categorize",
            "transaction",
            transaction.id,
            changes,
            category=choice.category,
            confidence=choice.confidence,
        )
        return choice

    async def recategorize(
        self, transaction_id: uuid.UUID, category_name: str, *, apply_to_past: bool = False
    ) -> tuple[Transaction, int]:
        """File a transaction under a category the user chose, and learn the merchant
        (in the set of its books), so the next one from there is filed the same way.
        Returns how many were re-filed."""
        transaction = await self.get(transaction_id, Capability.MONEY_WRITE)
        filing = self.category_set(transaction.household_id)
        category = await filing.named(category_name, create=True, kind=transaction.kind)
        changes = ChangeSet()
        targets = [transaction]
        key = merchant_key(transaction.merchant or "")
        if apply_to_past and key:
            same_books = (
                Transaction.user_id == self.ctx.user_id
                if transaction.household_id is None
                else Transaction.household_id == transaction.household_id
            )
            same = await self.session.exec(
                select(Transaction).where(same_books, Transaction.id != transaction.id)
            )
            targets += [t for t in same if merchant_key(t.merchant or "") == key]
        for target in targets:
            before = snapshot(target)
            await self._file(target, Choice(category.name, 1.0, "you chose"), category)
            changes.updated(target, before)
        if key:
            await filing.learn(key, category, changes)
        record_action(
            self.ctx,
            "finance.recategorize",
            "transaction",
            transaction.id,
            changes,
            category=category.name,
            merchant=transaction.merchant,
            count=len(targets),
        )
        return transaction, len(targets)

    async def learned(self, household_id: uuid.UUID | None = None) -> dict[str, str]:
        """What the user (or the household's keepers) taught: merchant key → category."""
        return await self.category_set(household_id).learned()

    async def _choose(
        self,
        merchant: str | None,
        description: str | None,
        kind: TransactionKind,
        transaction: Transaction,
    ) -> Choice:
        return choose(merchant, description, kind, await self.learned(transaction.household_id))

    async def _file(
        self, transaction: Transaction, choice: Choice, category: Category | None = None
    ) -> None:
        category = category or await self.category_set(transaction.household_id).named(
            choice.category, create=True, kind=transaction.kind
        )
        transaction.category_id = category.id
        transaction.meta = {
            **transaction.meta,
            "category_confidence": choice.confidence,
            "category_reason": choice.reason,
        }
        transaction.updated_at = self.ctx.now()
        self.session.add(transaction)
        await self.session.flush()

    # --- transactions ------------------------------------------------------

    async def log(
        self,
        data: TransactionCreate,
        changes: ChangeSet | None = None,
        *,
        record: bool = True,
        **extra: object,
    ) -> Transaction:
        """Record an expense or income; the category is chosen when not given."""
        changes = changes if changes is not None else ChangeSet()
        currency = currency_code(data.currency or self.ctx.settings.currency)
        if data.household_id is not None:
            await access.require_household(
                self.ctx, data.household_id, Capability.MONEY_LOG, doing="record its money"
            )
        transaction = Transaction(
            user_id=self.ctx.user_id,
            household_id=data.household_id,
            kind=data.kind,
            amount=amount_in(data.amount, currency),
            currency=currency,
            occurred_on=data.occurred_on or self.ctx.local_now().date(),
            merchant=data.merchant,
            description=data.description,
            receipt_url=data.receipt_url,
            **extra,
        )
        if data.project:
            transaction.project_id = (
                await find_or_start_project(self.ctx, data.project, changes)
            ).id
        if data.account:
            transaction.account_id = (await self._account(data.account, currency, changes)).id
        self.session.add(transaction)
        if data.category:
            filing = self.category_set(data.household_id)
            category = await filing.named(data.category, create=True, kind=data.kind)
            await self._file(transaction, Choice(category.name, 1.0, "you chose"), category)
        else:
            choice = await self._choose(data.merchant, data.description, data.kind, transaction)
            await self._file(transaction, choice)
        changes.created(transaction)
        if record:
            record_action(
                self.ctx,
                f"finance.{data.kind.value}",
                "transaction",
                transaction.id,
                changes,
                amount=str(transaction.amount),
                currency=currency,
                merchant=transaction.merchant,
            )
        return transaction

    async def get(
        self, transaction_id: uuid.UUID, capability: Capability = Capability.MONEY_READ
    ) -> Transaction:
        """A transaction of the user's own, or in the books of a household whose role
        lets them see money (and, asked for, change it); any other is NotFound."""
        try:
            key = uuid.UUID(str(transaction_id))
        except ValueError:
            raise NotFound("no such transaction") from None
        transaction = await self.session.get(Transaction, key)
        if transaction is None:
            raise NotFound("no such transaction")
        await access.require(
            self.ctx, transaction, capability, noun="transaction", what="books", doing="change"
        )
        return transaction

    async def update(self, transaction_id: uuid.UUID, data: TransactionUpdate) -> Transaction:
        transaction = await self.get(transaction_id, Capability.MONEY_WRITE)
        before = snapshot(transaction)
        changes = ChangeSet()
        sent = data.model_fields_set
        for name in ("kind", "occurred_on", "merchant", "description", "receipt_url"):
            if name in sent:
                if getattr(data, name) is None and name in ("kind", "occurred_on"):
                    raise SkillError(f"{name} cannot be empty")
                setattr(transaction, name, getattr(data, name))
        if "currency" in sent and data.currency:
            transaction.currency = currency_code(data.currency)
        if "amount" in sent or "currency" in sent:
            transaction.amount = amount_in(
                data.amount if data.amount is not None else transaction.amount, transaction.currency
            )
        if "project" in sent:
            project = (
                await find_or_start_project(self.ctx, data.project, changes)
                if data.project
                else None
            )
            transaction.project_id = project.id if project else None
        transaction.updated_at = self.ctx.now()
        self.session.add(transaction)
        await self.session.flush()
        changes.updated(transaction, before)
        record_action(
            self.ctx,
            "finance.update",
            "transaction",
            transaction.id,
            changes,
            amount=str(transaction.amount),
            merchant=transaction.merchant,
        )
        if "category" in sent and data.category:  # a correction: learn from it
            await self.recategorize(transaction.id, data.category)
        return transaction

    async def delete(self, transaction_id: uuid.UUID) -> Transaction:
        transaction = await self.get(transaction_id, Capability.MONEY_WRITE)
        changes = ChangeSet()
        changes.deleted(transaction)
        await self.session.delete(transaction)
        await self.session.flush()
        record_action(
            self.ctx,
            "finance.delete",
            "transaction",
            transaction.id,
            changes,
            amount=str(transaction.amount),
            merchant=transaction.merchant,
        )
        return transaction

    async def search(
        self, query: TransactionQuery, whose: ColumnElement[bool] | None = None
    ) -> list[Transaction]:
        """Transactions matching ``query``: among ``whose`` (a clause from
        ``books``) when given, else the household's books it names, else every one the
        user may see."""
        if whose is None and query.household_id:
            whose = await books(self.ctx, query.household_id)
        if whose is None:
            whose = await access.visible(self.ctx, Transaction, Capability.MONEY_READ)
        statement = select(Transaction).where(whose)
        if query.start:
            statement = statement.where(col(Transaction.occurred_on) >= query.start)
        if query.end:
            statement = statement.where(col(Transaction.occurred_on) < query.end)
        if query.kind:
            statement = statement.where(Transaction.kind == query.kind)
        if query.category:
            statement = statement.where(filed_under(query.category))
        if query.project:
            project = await find_project(self.ctx, query.project)
            if project is None:
                return []
            statement = statement.where(Transaction.project_id == project.id)
        for text, columns in (
            (query.merchant, (Transaction.merchant,)),
            (query.text, (Transaction.merchant, Transaction.description)),
        ):
            if text:
                pattern = like_pattern(text)
                statement = statement.where(
                    or_(*(col(c).ilike(pattern, escape="\\") for c in columns))
                )
        statement = statement.order_by(
            col(Transaction.occurred_on).desc(), col(Transaction.created_at).desc()
        ).limit(query.limit)
        return list(await self.session.exec(statement))

    async def public(self, transactions: Iterable[Transaction]) -> list[TransactionPublic]:
        items = list(transactions)
        categories = await self._category_names({t.category_id for t in items if t.category_id})
        projects = await project_names(self.ctx, {t.project_id for t in items if t.project_id})
        accounts = await self._account_names({t.account_id for t in items if t.account_id})
        return [
            TransactionPublic(
                **t.model_dump(
                    include={
                        "id",
                        "kind",
                        "amount",
                        "currency",
                        "occurred_on",
                        "merchant",
                        "description",
                        "receipt_url",
                        "household_id",
                        "created_at",
                        "updated_at",
                    }
                ),
                category=categories.get(t.category_id) if t.category_id else None,
                category_confidence=t.meta.get("category_confidence"),
                project=projects.get(t.project_id) if t.project_id else None,
                account=accounts.get(t.account_id) if t.account_id else None,
            )
            for t in items
        ]

    # --- the product design's names for the rest of the money skills ---------
    # Imported where used: those modules build on this one.

    async def connect_bank(self, public_token: str, institution: str | None = None) -> Any:
        from skills.finance.bank import BankService

        return await BankService(self.ctx).connect_bank(public_token, institution)

    async def generate_invoice(self, data: InvoiceCreate) -> Any:
        from skills.finance.invoices import InvoiceService

        return await InvoiceService(self.ctx).generate_invoice(data)

    async def calculate_job_costing(self, project: str | uuid.UUID) -> Any:
        from skills.finance.reports import FinanceReports

        return await FinanceReports(self.ctx).calculate_job_costing(project)

    # --- accounts ----------------------------------------------------------

    async def _account_or_none(self, name: str) -> Account | None:
        return (
            await self.session.exec(
                select(Account).where(
                    Account.user_id == self.ctx.user_id,
                    func.lower(Account.name) == name.strip().lower(),
                )
            )
        ).first()

    async def _account(self, name: str, currency: str, changes: ChangeSet) -> Account:
        found = await self._account_or_none(name)
        if found is not None:
            return found
        account = Account(user_id=self.ctx.user_id, name=name.strip(), currency=currency)
        if not await add_unless_taken(self.ctx, account):
            theirs = await self._account_or_none(name)  # a simultaneous request's
            if theirs is None:
                raise SkillError(f"could not start the account “{name}”; try again")
            return theirs
        changes.created(account)
        return account

    async def _account_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        # The ids are of rows the user may see: a household's rows name the accounts
        # and categories of whoever recorded them.
        rows = await self.session.exec(
            select(Account.id, Account.name).where(col(Account.id).in_(ids))
        )
        return dict(rows.all())

    async def _category_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.exec(
            select(Category.id, Category.name).where(col(Category.id).in_(ids))
        )
        return dict(rows.all())


__all__ = ["LEARNED", "FinanceService"]
