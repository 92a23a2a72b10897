"""A household's money kept together: its bank feed, its statement imports, its
category set and rules, and its invoices numbered in one sequence, whoever in it
issues them (also two at once, on both backends)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from skills.access import AccessDenied
from skills.context import Conflict, NotFound, SkillContext
from skills.files import LocalFileStore
from skills.finance.bank import BankService, plaid_client
from skills.finance.imports import StatementImporter
from skills.finance.invoices import InvoiceService
from skills.finance.reports import FinanceReports
from skills.finance.schemas import (
    BillableCreate,
    InvoiceCreate,
    Period,
    ProjectCreate,
    TransactionCreate,
)
from skills.finance.service import FinanceService
from skills.history import undo_last
from skills.households import HouseholdCreate, HouseholdService
from skills.projects import ProjectService
from skills.sealing import KeyRing
from store.database import session_factory, session_scope
from store.models import HouseholdRole, Invoice, Membership, TransactionKind, User
from tests.conftest import empty_tables
from tests.plaid_server import CLIENT_ID, GOOD_PUBLIC_TOKEN, SECRET, PlaidFeed, plaid_server
from tests.plaid_server import transaction as plaid_line
from tests.skills.conftest import Clock, make_user

MARCH = Period(start=date(2026, 3, 1), end=date(2026, 4, 1))
STATEMENT = b"""Date,Description,Amount
2026-03-02,CARD 1234 WHOLE FOODS MARKET,-82.17
2026-03-03,HOME DEPOT #0457,-140.00
2026-03-05,ACME PAYROLL,2500.00
"""


async def family(owner: SkillContext, *others: tuple[SkillContext, HouseholdRole]) -> uuid.UUID:
    """A Family household of ``owner``'s with the others in it, in their roles."""
    made = await HouseholdService(owner).create(HouseholdCreate(name="Family"))
    for ctx, role in others:
        owner.session.add(Membership(household_id=made.id, user_id=ctx.user_id, role=role))
    await owner.session.flush()
    for ctx in (owner, *(ctx for ctx, _ in others)):
        ctx.memberships = None  # read the new memberships again
    return made.id


async def third(session, clock: Clock) -> SkillContext:  # type: ignore[no-untyped-def]
    user = await make_user(session, "cy@example.com")
    return SkillContext.for_user(session, user, clock=clock)


async def test_imports_fill_the_household_books_once_and_show_in_its_summary(
    ctx: SkillContext, other: SkillContext, session, clock: Clock
) -> None:
    viewer = await third(session, clock)
    home = await family(ctx, (other, HouseholdRole.MEMBER), (viewer, HouseholdRole.VIEWER))

    # A member adds the family's statement to its books without reading them.
    first = await StatementImporter(other, home).import_statement(STATEMENT, account="Joint")
    assert (first.imported, first.duplicates) == (3, 0)
    with pytest.raises(AccessDenied, match="as a member of Family, you can't see its money"):
        await FinanceReports(other, home).summary(MARCH)

    # The owner imports the same statement: the lines are known, whoever brought them.
    again = await StatementImporter(ctx, home).import_statement(STATEMENT, account="Joint")
    assert (again.imported, again.duplicates) == (0, 3)

    summary = await FinanceReports(ctx, home).summary(MARCH)
    assert summary.total == Decimal("222.17")
    assert {row.key for row in summary.rows} == {"Groceries", "Materials"}
    own = await FinanceReports(ctx).summary(MARCH)  # the owner's own money is apart
    assert own.total == 0

    with pytest.raises(AccessDenied, match="as a viewer of Family, you can't import"):
        await StatementImporter(viewer, home).import_statement(STATEMENT, account="Joint")

    # The member takes their import back.
    assert (await undo_last(other)).action == "finance.import"
    assert (await FinanceReports(ctx, home).summary(MARCH)).total == 0


async def test_the_household_category_set_is_taught_by_its_keepers_and_used_by_members(
    ctx: SkillContext, other: SkillContext, session, clock: Clock
) -> None:
    keeper = await third(session, clock)
    home = await family(ctx, (other, HouseholdRole.MEMBER), (keeper, HouseholdRole.BOOKKEEPER))
    books = FinanceService(keeper)

    # The bookkeeper files a family expense under a new category: the household learns it.
    spent = await FinanceService(ctx).log(
        TransactionCreate(amount=Decimal(30), merchant="Blue Bottle", household_id=home)
    )
    await books.recategorize(spent.id, "Treats")
    assert "Treats" in {c.name for c in await books.categories(home)}
    assert await books.learned(home) == {"blue bottle": "Treats"}
    assert await FinanceService(ctx).learned() == {}  # the owner's own set is untouched

    # A member's purchase there is filed by the household's rule; their own one is not.
    theirs = await FinanceService(other).log(
        TransactionCreate(amount=Decimal(6), merchant="BLUE BOTTLE #12", household_id=home)
    )
    mine = await FinanceService(other).log(
        TransactionCreate(amount=Decimal(5), merchant="BLUE BOTTLE #12")
    )
    [public_theirs, public_mine] = await FinanceService(other).public([theirs, mine])
    assert public_theirs.category == "Treats"
    assert public_mine.category == "Other"  # no rule of her own for it

    # A member uses the set but does not add to it.
    assert "Treats" in {c.name for c in await FinanceService(other).categories(home)}
    with pytest.raises(AccessDenied, match="can't add categories to its books"):
        await FinanceService(other).log(
            TransactionCreate(amount=Decimal(9), category="Snacks", household_id=home)
        )


@pytest.fixture
async def feed() -> PlaidFeed:
    lines = [plaid_line("t1", 82.17, "WHOLE FOODS", "2026-03-02")]
    return PlaidFeed(pages=[(lines, [], [])])


@pytest.fixture
async def banks(ctx: SkillContext, other: SkillContext, feed: PlaidFeed) -> AsyncIterator[None]:
    async with plaid_server(feed) as url:
        for each in (ctx, other):
            each.keys = KeyRing.single(bytes(range(32)))
            each.bank = plaid_client(url, CLIENT_ID, SECRET)
        yield


async def test_a_household_bank_feed_is_kept_by_its_keepers(
    ctx: SkillContext, other: SkillContext, feed: PlaidFeed, banks: None
) -> None:
    home = await family(ctx, (other, HouseholdRole.MEMBER))
    with pytest.raises(AccessDenied, match="can't connect banks to its books"):
        await BankService(other).connect_bank(GOOD_PUBLIC_TOKEN, household_id=home)

    link, result = await BankService(ctx).connect_bank(GOOD_PUBLIC_TOKEN, "Plaid", home)
    assert result.added == 1
    assert (await FinanceReports(ctx, home).summary(MARCH)).total == Decimal("82.17")
    assert await BankService(other).links() == []  # a member sees nothing of it
    with pytest.raises(NotFound):
        await BankService(other).sync(link.id)
    with pytest.raises(Conflict, match="already feeds other books"):
        await BankService(ctx).connect_bank(GOOD_PUBLIC_TOKEN)

    # The member becomes the bookkeeper: the feed is theirs to keep, into the same books.
    await HouseholdService(ctx).set_role(home, other.user_id, HouseholdRole.BOOKKEEPER)
    other.memberships = None
    assert [found.id for found in await BankService(other).links()] == [link.id]
    feed.pages.append(([plaid_line("t2", 12.0, "SHELL", "2026-03-04")], [], ["t1"]))
    later = await BankService(other).sync(link.id)
    assert (later.added, later.removed) == (1, 1)  # the owner's row, gone at the bank
    assert (await FinanceReports(ctx, home).summary(MARCH)).total == Decimal("12.00")


@pytest.fixture
async def files(ctx: SkillContext, other: SkillContext, tmp_path: Path) -> None:
    for each in (ctx, other):
        each.files = LocalFileStore(tmp_path / "files")


async def bill(ctx: SkillContext, project: str) -> Invoice:
    work = BillableCreate(description="Tiling", quantity=Decimal(2), unit_price=Decimal(40))
    await InvoiceService(ctx).add_billable(project, work)
    return await InvoiceService(ctx).generate_invoice(InvoiceCreate(project=project))


async def test_household_invoices_are_numbered_in_one_sequence_and_listed_for_its_keepers(
    ctx: SkillContext, other: SkillContext, session, clock: Clock, files: None
) -> None:
    member = await third(session, clock)
    home = await family(ctx, (other, HouseholdRole.BOOKKEEPER), (member, HouseholdRole.MEMBER))
    await ProjectService(ctx).create(ProjectCreate(name="Attic", household_id=home))
    await ProjectService(ctx).create(ProjectCreate(name="Shed"))  # the owner's own job

    issued = [await bill(ctx, "Attic"), await bill(other, "Attic"), await bill(ctx, "Shed")]
    assert [(i.number, i.household_id) for i in issued] == [(1, home), (2, home), (1, None)]

    seen = {(i.number, i.household_id) for i in await InvoiceService(other).list()}
    assert seen == {(1, home), (2, home)}  # the bookkeeper: the household's, not the Shed
    assert await InvoiceService(member).list() == []
    with pytest.raises(NotFound):
        await InvoiceService(member).get(issued[0].id)

    # The bookkeeper marks the owner's invoice paid: the payment is in the household's books.
    await InvoiceService(other).mark_paid(issued[0].id, date(2026, 3, 4))
    income = await FinanceReports(ctx, home).summary(MARCH, kind=TransactionKind.INCOME)
    assert income.total == Decimal("80.00")


async def test_two_household_invoices_at_once_get_two_numbers(
    engine: AsyncEngine, tmp_path: Path, clock: Clock
) -> None:
    """Ann bills the family's attic and her bookkeeper its porch at the same moment,
    each in their own database transaction, before the household has a counter: it is
    started once, and the numbers differ."""
    sessions = session_factory(engine)
    try:
        async with session_scope(sessions) as s:
            ann = await make_user(s, "ann@example.com")
            bob = await make_user(s, "bob@example.com")
            ann_ctx = SkillContext.for_user(s, ann, clock=clock)
            home = await family(ann_ctx, (SkillContext.for_user(s, bob), HouseholdRole.BOOKKEEPER))
            work = BillableCreate(description="Tiling", quantity=Decimal(1), unit_price=Decimal(40))
            for job in ("Attic", "Porch"):
                await ProjectService(ann_ctx).create(ProjectCreate(name=job, household_id=home))
                await InvoiceService(ann_ctx).add_billable(job, work)

        async def issue(user_id: uuid.UUID, job: str) -> int:
            async with session_scope(sessions) as s:
                user = await s.get(User, user_id)
                assert user is not None
                files = LocalFileStore(tmp_path / "files")
                service = InvoiceService(SkillContext.for_user(s, user, clock=clock, files=files))
                return (await service.generate_invoice(InvoiceCreate(project=job))).number

        numbers = await asyncio.gather(issue(ann.id, "Attic"), issue(bob.id, "Porch"))
        async with session_scope(sessions) as s:
            stored = (await s.exec(select(Invoice.number, Invoice.household_id))).all()
    finally:
        await empty_tables(engine)
    assert sorted(numbers) == [1, 2]
    assert sorted(stored) == [(1, home), (2, home)]
