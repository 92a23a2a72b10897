"""Bank statements: OFX/QFX through ofxparse, and CSV exports with their many
column layouts. Parsing checks every line before anything is stored."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel

from skills.context import SkillError


@dataclass(frozen=True)
class StatementLine:
    occurred_on: date
    amount: Decimal  # signed as the bank shows it: negative is money out
    description: str
    external_id: str | None = None


@dataclass(frozen=True)
class Statement:
    lines: list[StatementLine]
    currency: str | None = None
    account: str | None = None


class CsvColumns(BaseModel):
    """Which column holds what, for exports the automatic detection gets wrong."""

    date: str | None = None
    description: str | None = None
    amount: str | None = None
    debit: str | None = None
    credit: str | None = None
    currency: str | None = None
    date_format: str | None = None  # strptime format, e.g. "%d/%m/%Y"


HEADER_NAMES = {
    "date": (
        "date",
        "transaction date",
        "posted date",
        "posting date",
        "booking date",
        "trans. date",
        "value date",
        "completed date",
    ),
    "description": (
        "description",
        "payee",
        "merchant",
        "name",
        "details",
        "memo",
        "narrative",
        "transaction description",
        "reference",
    ),
    "amount": (
        "amount",
        "transaction amount",
        "amount (usd)",
        "amount (eur)",
        "amount (gbp)",
        "value",
    ),
    "debit": (
        "debit",
        "debits",
        "withdrawal",
        "withdrawals",
        "money out",
        "paid out",
        "debit amount",
    ),
    "credit": ("credit", "credits", "deposit", "deposits", "money in", "paid in", "credit amount"),
    "currency": ("currency", "ccy"),
}
DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d-%m-%Y",
    "%Y%m%d",
)


def looks_like_ofx(data: bytes) -> bool:
    head = data[:2048].upper()
    return b"OFXHEADER" in head or b"<OFX>" in head


def parse_ofx(data: bytes) -> Statement:
    if b"</OFX>" not in data.upper():
        # ofxparse reads a truncated file without complaint, losing its last lines.
        raise SkillError(
            "that is not a readable OFX/QFX statement: it stops before </OFX>, "
            "so it looks cut short"
        )
    try:
        import ofxparse  # with BeautifulSoup: a quarter second of start-up, only for OFX

        parsed = ofxparse.OfxParser.parse(io.BytesIO(data))
        account = parsed.account
        statement = account.statement
        lines = [
            StatementLine(
                t.date.date() if isinstance(t.date, datetime) else t.date,
                Decimal(str(t.amount)),
                (t.payee or t.memo or "").strip(),
                t.id,
            )
            for t in statement.transactions
        ]
    except Exception as exc:  # ofxparse raises many types for a broken file
        raise SkillError(f"that is not a readable OFX/QFX statement: {exc}") from exc
    currency = getattr(statement, "currency", None)
    name = getattr(account, "account_id", None) or getattr(account, "number", None)
    return Statement(
        lines,
        currency.upper() if currency else None,
        f"Account …{str(name)[-4:]}" if name else None,
    )


def parse_csv(data: bytes, columns: CsvColumns | None = None) -> Statement:
    text = _decode(data)
    try:
        rows = list(csv.reader(io.StringIO(text), dialect=_dialect(text)))
    except csv.Error as exc:
        raise SkillError(f"that CSV file cannot be read: {exc}") from exc
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise SkillError("the CSV file has no transactions under its header")
    header = [cell.strip().lower() for cell in rows[0]]
    where = _locate(header, columns or CsvColumns())
    body = rows[1:]
    fmt = (columns and columns.date_format) or _date_format([_cell(r, where["date"]) for r in body])
    lines, currencies = [], set()
    for number, row in enumerate(body, start=2):
        if len(row) < len(header):
            raise SkillError(
                f"line {number} of the CSV has {len(row)} columns, the header "
                f"{len(header)}: the file looks cut short"
            )
        try:
            day = datetime.strptime(_cell(row, where["date"]), fmt).date()
        except ValueError as exc:
            raise SkillError(f"line {number}: {_cell(row, where['date'])!r} is not a date") from exc
        lines.append(
            StatementLine(day, _signed_amount(row, where, number), _cell(row, where["description"]))
        )
        if where.get("currency") is not None:
            currencies.add(_cell(row, where["currency"]).upper())
    if len(currencies) > 1:
        raise SkillError(f"the statement mixes currencies ({', '.join(sorted(currencies))})")
    return Statement(lines, currencies.pop() if currencies else None)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SkillError("the file is not text")


def _dialect(text: str) -> type[csv.Dialect]:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _locate(header: list[str], columns: CsvColumns) -> dict[str, int | None]:
    where: dict[str, int | None] = {}
    for role, names in HEADER_NAMES.items():
        chosen = getattr(columns, role)
        if chosen:
            if chosen.strip().lower() not in header:
                raise SkillError(f"the CSV has no column called {chosen!r}")
            where[role] = header.index(chosen.strip().lower())
        else:
            where[role] = next((header.index(n) for n in names if n in header), None)
    if where["date"] is None or where["description"] is None:
        raise SkillError(
            "the CSV needs a date and a description column; name them with a column mapping"
        )
    if where["amount"] is None and where["debit"] is None and where["credit"] is None:
        raise SkillError("the CSV has no amount (or debit/credit) column")
    return where


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _date_format(values: list[str]) -> str:
    """The format that reads the most dates in the file (all of them, in a good file):
    "03/04/2026" alone is ambiguous, but a file that also has "03/25/2026" is American.
    A line the winner cannot read is then reported by its line number."""

    def readable(fmt: str) -> int:
        count = 0
        for value in values:
            try:
                datetime.strptime(value, fmt)
                count += 1
            except ValueError:
                pass
        return count

    scores = {fmt: readable(fmt) for fmt in DATE_FORMATS}
    best = max(DATE_FORMATS, key=lambda fmt: scores[fmt])  # ties: the earlier format
    if scores[best] == 0:
        raise SkillError("the dates in the CSV are in a format I don't know; give date_format")
    return best


def _money(text: str, number: int) -> Decimal | None:
    raw = text.strip()
    if not raw:
        return None
    negative = (raw.startswith("(") and raw.endswith(")")) or raw.upper().endswith("DR")
    cleaned = re.sub(r"[^\d.,\-]", "", raw)
    if re.search(r",\d{1,2}$", cleaned) and cleaned.rfind(",") > cleaned.rfind("."):
        cleaned = cleaned.replace(".", "").replace(",", ".")  # 1.234,56 written the European way
    cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise SkillError(f"line {number}: {text!r} is not an amount") from exc
    return -abs(value) if negative else value


def _signed_amount(row: list[str], where: dict[str, int | None], number: int) -> Decimal:
    if where["amount"] is not None:
        value = _money(_cell(row, where["amount"]), number)
        if value is None:
            raise SkillError(f"line {number} has no amount")
        return value
    debit = _money(_cell(row, where["debit"]), number)
    credit = _money(_cell(row, where["credit"]), number)
    if debit is None and credit is None:
        raise SkillError(f"line {number} has neither a debit nor a credit")
    return (credit or Decimal(0)) - abs(debit or Decimal(0))
