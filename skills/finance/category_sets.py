"""A set of categories and the rules learned for it: a user's own, or a household's,
shared by everyone who records into its books. Whose set a transaction is filed in
follows its books: a household's rows use the household's set.

Who may do what with a household's set is skills.access's: a role that may add to the
books (MONEY_LOG: members too) uses the set as it is; a role that keeps them
(MONEY_WRITE) adds categories and teaches it rules."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_
from sqlmodel import col, select

from skills import access
from skills.access import Capability
from skills.context import NotFound, SkillContext, SkillError
from skills.finance.categories import EXPENSE_CATEGORIES, INCOME_CATEGORIES
from skills.history import ChangeSet, snapshot
from skills.records import add_unless_taken
from store.models import Category, CategoryRule, TransactionKind


class CategorySet:
    def __init__(self, ctx: SkillContext, household_id: uuid.UUID | None = None) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self.household_id = household_id
        self._categories: list[Category] | None = None  # read once per operation

    def _whose(self, model: type[Category] | type[CategoryRule]) -> ColumnElement[bool]:
        if self.household_id is None:
            return and_(model.user_id == self.ctx.user_id, col(model.household_id).is_(None))
        return model.household_id == self.household_id

    async def may(self, capability: Capability) -> bool:
        """Whether the user may ``capability`` this set (their own: always)."""
        if self.household_id is None:
            return True
        member = (await access.memberships(self.ctx)).get(self.household_id)
        return member is not None and access.can(member.role, capability, access.Scope.SHARED)

    async def require(self, capability: Capability, doing: str) -> None:
        if self.household_id is not None:
            await access.require_household(self.ctx, self.household_id, capability, doing=doing)

    async def categories(self) -> list[Category]:
        """The set, started on the default categories the first time it is used."""
        if self._categories is not None:
            return self._categories
        await self.require(Capability.MONEY_LOG, "use its categories")
        found = list(
            await self.session.exec(
                select(Category).where(self._whose(Category)).order_by(col(Category.name))
            )
        )
        if found:
            self._categories = found
            return found
        starters = [self._new(name, TransactionKind.EXPENSE) for name in EXPENSE_CATEGORIES]
        starters += [self._new(name, TransactionKind.INCOME) for name in INCOME_CATEGORIES]
        await add_unless_taken(self.ctx, *starters)  # or a simultaneous request did
        return await self.categories()

    def _new(self, name: str, kind: TransactionKind) -> Category:
        return Category(
            user_id=self.ctx.user_id, household_id=self.household_id, name=name, kind=kind
        )

    async def named(
        self, name: str, *, create: bool = False, kind: TransactionKind = TransactionKind.EXPENSE
    ) -> Category:
        """ "Grocery" finds "Groceries" and the other way round."""
        wanted = name.strip().lower()
        for category in await self.categories():
            if category.name.lower() in (wanted, wanted.rstrip("s")) or (
                category.name.lower().rstrip("s") == wanted
            ):
                return category
        if not create:
            raise NotFound(f"there is no category called “{name}”")
        await self.require(Capability.MONEY_WRITE, "add categories to its books")
        category = self._new(name.strip().capitalize(), kind)
        self.session.add(category)
        await self.session.flush()
        self._categories = None
        return category

    async def learned(self) -> dict[str, str]:
        """What the set was taught: merchant key → category name."""
        await self.require(Capability.MONEY_LOG, "use its categories")
        rows = await self.session.exec(
            select(CategoryRule.merchant_key, Category.name)
            .join(Category, col(Category.id) == CategoryRule.category_id)
            .where(self._whose(CategoryRule))
        )
        return dict(rows.all())

    async def _rule(self, key: str) -> CategoryRule | None:
        return (
            await self.session.exec(
                select(CategoryRule).where(
                    self._whose(CategoryRule), CategoryRule.merchant_key == key
                )
            )
        ).first()

    async def learn(self, key: str, category: Category, changes: ChangeSet) -> None:
        """File this merchant under ``category`` from now on. Only a role that keeps
        the books teaches a household's set: a member filing their own row under one
        of its categories changes that row, not the household's rules."""
        if not await self.may(Capability.MONEY_WRITE):
            return
        rule = await self._rule(key)
        if rule is None:
            rule = CategoryRule(
                user_id=self.ctx.user_id,
                household_id=self.household_id,
                merchant_key=key,
                category_id=category.id,
            )
            if await add_unless_taken(self.ctx, rule):
                changes.created(rule)
                return
            rule = await self._rule(key)  # a simultaneous request learned it first
            if rule is None:
                raise SkillError("could not learn that category; try again")
        before = snapshot(rule)
        rule.category_id, rule.hits = category.id, rule.hits + 1
        self.session.add(rule)
        await self.session.flush()
        changes.updated(rule, before)
