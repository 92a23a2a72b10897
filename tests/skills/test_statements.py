"""Statement imports: OFX and CSV, nothing imported twice, all or nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from skills.context import SkillContext, SkillError
from skills.finance.imports import StatementImporter
from skills.finance.schemas import TransactionQuery
from skills.finance.service import FinanceService
from skills.finance.statements import CsvColumns
from skills.history import undo_last

OFX = (Path(__file__).parent / "data" / "checking.ofx").read_bytes()

US_CSV = b"""Posted Date,Description,Debit,Credit
03/02/2026,CARD 1234 BLUE BOTTLE SF,6.25,
03/02/2026,CARD 1234 BLUE BOTTLE SF,6.25,
03/25/2026,CLIENT PAYMENT,,1500.00
03/26/2026,HOME DEPOT #455,"1,204.10",
"""

EU_CSV = (
    "Datum;Omschrijving;Bedrag;Valuta\n"
    "02.03.2026;Albert Heijn;-23,40;EUR\n"
    "03.03.2026;Salaris;2.400,00;EUR\n"
)


async def amounts(ctx: SkillContext) -> list[tuple[str, Decimal]]:
    found = await FinanceService(ctx).search(TransactionQuery())
    return sorted((t.kind.value, t.amount) for t in found)


async def test_ofx_import_and_no_duplicates_on_reimport(ctx: SkillContext) -> None:
    importer = StatementImporter(ctx)
    first = await importer.import_statement(OFX)
    assert (first.imported, first.duplicates, first.currency) == (3, 0, "USD")
    assert first.account == "Account …6789"
    again = await importer.import_statement(OFX)
    assert (again.imported, again.duplicates) == (0, 3)
    overlapping = OFX.replace(
        b"<FITID>T3<NAME>ACME PAYROLL</STMTTRN>",
        b"<FITID>T3<NAME>ACME PAYROLL</STMTTRN>\n<STMTTRN><TRNTYPE>DEBIT"
        b"<DTPOSTED>20260305<TRNAMT>-12.00<FITID>T4<NAME>NETFLIX</STMTTRN>",
    )
    more = await importer.import_statement(overlapping)
    assert (more.imported, more.duplicates) == (1, 3)
    assert await amounts(ctx) == [
        ("expense", Decimal("4.50")),
        ("expense", Decimal("12.00")),
        ("expense", Decimal("82.17")),
        ("income", Decimal("2500.00")),
    ]
    [netflix] = await FinanceService(ctx).public(
        await FinanceService(ctx).search(TransactionQuery(merchant="netflix"))
    )
    assert netflix.category == "Subscriptions"


async def test_csv_with_debit_and_credit_columns(ctx: SkillContext) -> None:
    result = await StatementImporter(ctx).import_statement(US_CSV, account="Chase checking")
    # Two identical coffees on one day are two purchases, not a duplicate.
    assert (result.imported, result.duplicates) == (4, 0)
    assert await amounts(ctx) == [
        ("expense", Decimal("6.25")),
        ("expense", Decimal("6.25")),
        ("expense", Decimal("1204.10")),
        ("income", Decimal("1500.00")),
    ]
    assert (
        await StatementImporter(ctx).import_statement(US_CSV, account="Chase checking")
    ).duplicates == 4
    [coffee, _] = await FinanceService(ctx).search(TransactionQuery(merchant="blue bottle"))
    assert coffee.merchant == "BLUE BOTTLE SF"


async def test_european_csv_with_mapping(ctx: SkillContext) -> None:
    columns = CsvColumns(
        date="Datum",
        description="Omschrijving",
        amount="Bedrag",
        currency="Valuta",
        date_format="%d.%m.%Y",
    )
    result = await StatementImporter(ctx).import_statement(
        EU_CSV.encode(), account="ING", columns=columns
    )
    assert (result.imported, result.currency) == (2, "EUR")
    assert await amounts(ctx) == [("expense", Decimal("23.40")), ("income", Decimal("2400.00"))]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (OFX[: len(OFX) // 2], "not a readable OFX"),
        (b"Date,Description,Amount\n2026-03-01,Coffee,-4.50\n2026-03-02,Tea\n", "cut short"),
        (b"Date,Description,Amount\n2026-03-01,Coffee,-4.50\n2026-13-45,Tea,-3\n", "not a date"),
        (b"Date,Description,Amount\n2026-03-01,Coffee,abc\n", "not an amount"),
        (b"Date,Description,Amount\n2026-03-01,Coffee,-4.505\n", "at most 2 decimal places"),
        (b"Date,Memo\n2026-03-01,Coffee\n", "no amount"),
        (b"Date,Description,Amount,Currency\n2026-03-01,a,-1,USD\n2026-03-02,b,-2,EUR\n", "mixes"),
        (b"just some words", "no transactions"),
    ],
)
async def test_broken_statements_import_nothing(
    ctx: SkillContext, data: bytes, message: str
) -> None:
    with pytest.raises(SkillError, match=message):
        await StatementImporter(ctx).import_statement(data, account="Checking")
    assert await amounts(ctx) == []


async def test_statement_in_another_currency_is_refused(ctx: SkillContext) -> None:
    await StatementImporter(ctx).import_statement(US_CSV, account="Main")
    with pytest.raises(SkillError, match="in EUR but the account “Main” is in USD"):
        await StatementImporter(ctx).import_statement(
            EU_CSV.encode(),
            account="Main",
            columns=CsvColumns(
                date="Datum", description="Omschrijving", amount="Bedrag", currency="Valuta"
            ),
        )


async def test_undo_takes_back_the_whole_import(ctx: SkillContext) -> None:
    await StatementImporter(ctx).import_statement(US_CSV, account="Chase")
    await undo_last(ctx)
    assert await amounts(ctx) == []
