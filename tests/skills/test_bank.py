"""Bank feeds with the real plaid-python client against a local Plaid-speaking server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlmodel import select

from skills.context import SkillContext, SkillError, Unavailable
from skills.finance.bank import BankNotConfigured, BankService, plaid_client
from skills.finance.schemas import TransactionQuery
from skills.finance.service import FinanceService
from skills.history import undo_last
from skills.sealing import KeyRing
from store.models import BankLink
from tests.plaid_server import (
    CLIENT_ID,
    GOOD_PUBLIC_TOKEN,
    SECRET,
    PlaidFeed,
    plaid_server,
    transaction,
)


@pytest.fixture
async def feed() -> PlaidFeed:
    return PlaidFeed(
        pages=[
            (
                [
                    transaction("t1", 4.5, "STARBUCKS", "2026-03-02"),
                    transaction("t2", 82.17, "WHOLE FOODS", "2026-03-02"),
                ],
                [],
                [],
            ),
            ([transaction("t3", -2500.0, "ACME PAYROLL", "2026-03-03")], [], []),
        ]
    )


@pytest.fixture
async def bank(ctx: SkillContext, feed: PlaidFeed) -> AsyncIterator[BankService]:
    async with plaid_server(feed) as url:
        ctx.keys = KeyRing.single(bytes(range(32)))
        ctx.bank = plaid_client(url, CLIENT_ID, SECRET)
        yield BankService(ctx)


async def ledger(ctx: SkillContext) -> list[tuple[str, str, Decimal]]:
    found = await FinanceService(ctx).public(await FinanceService(ctx).search(TransactionQuery()))
    return sorted((t.merchant or "", t.kind.value, t.amount) for t in found)


async def test_connect_pulls_every_page_and_keeps_the_cursor(
    bank: BankService, ctx: SkillContext, feed: PlaidFeed
) -> None:
    assert await bank.link_token() == "link-sandbox-123"
    link, result = await bank.connect_bank(GOOD_PUBLIC_TOKEN, institution="Plaid Bank")
    assert (result.added, result.modified, result.removed) == (3, 0, 0)
    assert feed.served == [None, "c1"]
    assert link.cursor == "c2"
    assert "access-sandbox-xyz" not in link.access_token_sealed  # sealed at rest
    assert await ledger(ctx) == [
        ("Acme Payroll", "income", Decimal("2500.00")),
        ("Starbucks", "expense", Decimal("4.50")),
        ("Whole Foods", "expense", Decimal("82.17")),
    ]

    # Later: the bank corrects one amount and drops another.
    feed.pages.append(([], [transaction("t2", 80.17, "WHOLE FOODS", "2026-03-02")], ["t1"]))
    later = await bank.sync(link.id)
    assert (later.added, later.modified, later.removed) == (0, 1, 1)
    assert feed.served[-1] == "c2"
    assert await ledger(ctx) == [
        ("Acme Payroll", "income", Decimal("2500.00")),
        ("Whole Foods", "expense", Decimal("80.17")),
    ]


async def test_a_bank_sync_can_be_undone(bank: BankService, ctx: SkillContext) -> None:
    await bank.connect_bank(GOOD_PUBLIC_TOKEN, institution="Plaid Bank")
    assert len(await ledger(ctx)) == 3
    undone = await undo_last(ctx)
    assert undone.action == "finance.bank_sync"
    assert await ledger(ctx) == []


async def test_plaid_errors_are_clear_and_store_nothing(
    bank: BankService, ctx: SkillContext, feed: PlaidFeed
) -> None:
    with pytest.raises(SkillError, match="INVALID_PUBLIC_TOKEN"):
        await bank.connect_bank("public-sandbox-bad")
    assert (await ctx.session.exec(select(BankLink))).all() == []

    link, _ = await bank.connect_bank(GOOD_PUBLIC_TOKEN)
    await ctx.session.commit()
    feed.pages.append(([transaction("t9", 9.99, "NETFLIX", "2026-03-04")], [], []))
    feed.fail_next = True
    with pytest.raises(Unavailable, match="INTERNAL_SERVER_ERROR"):
        await bank.sync(link.id)
    await ctx.session.rollback()
    assert (await ctx.session.get(BankLink, link.id)).cursor == "c2"  # nothing skipped


async def test_without_plaid_settings(ctx: SkillContext) -> None:
    with pytest.raises(BankNotConfigured, match="LIFEOS_PLAID_CLIENT_ID"):
        await BankService(ctx).link_token()


async def test_unreachable_plaid(ctx: SkillContext) -> None:
    ctx.keys = KeyRing.single(bytes(range(32)))
    ctx.bank = plaid_client("http://127.0.0.1:1", CLIENT_ID, SECRET, timeout=3)
    with pytest.raises(Unavailable, match="cannot be reached"):
        await BankService(ctx).connect_bank(GOOD_PUBLIC_TOKEN)
