"""Statement imports: OFX and CSV, nothing imported twice, all or nothing."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from skills.context import SkillContext, SkillError
from skills.finance.imports import MAX_LINES, StatementImporter, read_statement
from skills.finance.schemas import TransactionQuery
from skills.finance.service import FinanceService
from skills.finance.statements import CsvColumns, parse_ofx
from skills.history import undo_last
from store.models import AuditEntry, Transaction

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


OFX2_CARD = b"""<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1</TRNUID><CCSTMTRS><CURDEF>EUR</CURDEF>
<CCACCTFROM><ACCTID>4111111111114321</ACCTID></CCACCTFROM>
<BANKTRANLIST><DTSTART>20260301</DTSTART><DTEND>20260305</DTEND>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260302120000.000[-5:EST]</DTPOSTED>
<TRNAMT>-12,30</TRNAMT><FITID>C1</FITID><PAYEE><NAME>Smith &amp; Sons</NAME></PAYEE></STMTTRN>
<STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20260303</DTPOSTED><TRNAMT>5.00</TRNAMT>
<FITID>C2</FITID><MEMO>Refund</MEMO></STMTTRN>
</BANKTRANLIST></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>
"""


def test_ofx_2_card_statement() -> None:
    statement = parse_ofx(OFX2_CARD)
    assert (statement.currency, statement.account) == ("EUR", "Account …4321")
    assert [(x.occurred_on, x.amount, x.description, x.external_id) for x in statement.lines] == [
        (date(2026, 3, 2), Decimal("-12.30"), "Smith & Sons", "C1"),
        (date(2026, 3, 3), Decimal("5.00"), "Refund", "C2"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"<TRNAMT>-4.50", b"<TRNAMT>-4.5E+1", "transaction 1 of the OFX statement: '-4.5E+1'"),
        (b"<TRNAMT>-82.17", b"<TRNAMT>-99999999999999", "transaction 2 of the OFX statement"),
        (b"<DTPOSTED>20260302", b"<DTPOSTED>2026-03", "transaction 1 of the OFX statement has no"),
        (b"<STMTRS>", b"<STMTXX>", "holds no bank statement"),
        (b"</BANKTRANLIST>", b"<STMTTRN>" * 100_000, "a transaction never ends"),
    ],
)
async def test_broken_ofx_lines_are_named(
    ctx: SkillContext, old: bytes, new: bytes, message: str
) -> None:
    with pytest.raises(SkillError, match=re.escape(message)):
        await StatementImporter(ctx).import_statement(OFX.replace(old, new))
    assert await amounts(ctx) == []


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1E+30", "line 3: '1E+30' is in exponent notation"),
        ("1e999999", "line 3: '1e999999' is in exponent notation"),
        ("$ 2.5e3", "line 3: '$ 2.5e3' is in exponent notation"),
        ("1000000000000.00", "line 3: '1000000000000.00' is too large an amount"),
        ("12abc34", "line 3: '12abc34' is not an amount"),
        ("1.2.3", "line 3: '1.2.3' is not an amount"),
    ],
)
async def test_csv_amounts_are_read_as_written_or_refused(
    ctx: SkillContext, amount: str, message: str
) -> None:
    data = f"Date,Description,Amount\n2026-03-01,Coffee,-4.50\n2026-03-02,Rent,{amount}\n"
    with pytest.raises(SkillError, match=re.escape(message)):
        await StatementImporter(ctx).import_statement(data.encode())
    assert await amounts(ctx) == []


async def test_csv_amounts_in_the_forms_banks_write_them(ctx: SkillContext) -> None:
    data = (
        "Date,Description,Amount\n"
        '2026-03-01,a,"$1,234.56"\n2026-03-01,b,(12.00)\n2026-03-01,c,7.25 DR\n'
        "2026-03-01,d,€ 5\n2026-03-01,e,-0.99\n"
    )
    await StatementImporter(ctx).import_statement(data.encode())
    assert await amounts(ctx) == [
        ("expense", Decimal("0.99")),
        ("expense", Decimal("7.25")),
        ("expense", Decimal("12.00")),
        ("income", Decimal("5")),
        ("income", Decimal("1234.56")),
    ]


async def test_too_many_lines_are_refused_before_reading_them_all(ctx: SkillContext) -> None:
    header = "Date,Description,Amount\n"
    data = header + "2026-03-01,Coffee,-4.50\n" * (MAX_LINES + 1) + "not,even,read\n" * 50_000
    with pytest.raises(SkillError, match=f"at most {MAX_LINES} lines"):
        read_statement(data.encode())


async def test_the_undo_record_lists_the_stored_rows(
    ctx: SkillContext, session: AsyncSession
) -> None:
    await StatementImporter(ctx).import_statement(US_CSV, account="Chase")
    entry = (
        await session.exec(
            select(AuditEntry).where(
                AuditEntry.user_id == ctx.user_id, AuditEntry.action == "finance.import"
            )
        )
    ).one()
    stored = await session.exec(select(Transaction.id).where(Transaction.user_id == ctx.user_id))
    assert sorted(entry.meta["added"]["transactions"]) == sorted(str(i) for i in stored)
    assert entry.meta["changes"] == []  # no snapshot of every row


async def test_undo_of_an_import_leaves_what_was_there_before(ctx: SkillContext) -> None:
    importer = StatementImporter(ctx)
    await importer.import_statement(OFX)
    before = await amounts(ctx)
    overlapping = OFX.replace(
        b"<FITID>T3<NAME>ACME PAYROLL</STMTTRN>",
        b"<FITID>T3<NAME>ACME PAYROLL</STMTTRN>\n<STMTTRN><TRNTYPE>DEBIT"
        b"<DTPOSTED>20260305<TRNAMT>-12.00<FITID>T4<NAME>NETFLIX</STMTTRN>",
    )
    assert (await importer.import_statement(overlapping)).imported == 1
    undone = await undo_last(ctx)
    assert (undone.action, undone.facts["imported"]) == ("finance.import", 1)
    assert "added" not in undone.facts
    assert await amounts(ctx) == before  # only the second import's line is gone
