"""Bank statements: OFX/QFX, and CSV exports with their many column layouts.
Parsing checks every line before anything is stored, and is plain CPU work that
callers run in a thread: a 20,000-line file takes well under a second."""

from __future__ import annotations

import csv
import html
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from skills.context import SkillError
from skills.finance.money import MAX_AMOUNT, plain_decimal


@dataclass(frozen=True)
class StatementLine:
    occurred_on: date
    amount: Decimal  # signed as the bank shows it: negative is money out
    description: str
    external_id: str | None = None
    line: int | None = None  # where it is in the file, for messages


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


_OFX_VALUE = re.compile(r"<([A-Za-z0-9_.]+)>([^<]*)")
_OFX_DATE = re.compile(r"\s*(\d{4})(\d{2})(\d{2})")


def parse_ofx(data: bytes, max_lines: int | None = None) -> Statement:
    """Read an OFX/QFX statement in one linear pass (ofxparse took 35 s for 20,000
    transactions: its tag repair is quadratic and BeautifulSoup slow)."""
    text = _decode(data)
    if "</OFX>" not in text.upper():
        raise SkillError(
            "that is not a readable OFX/QFX statement: it stops before </OFX>, "
            "so it looks cut short"
        )
    head = _ofx_values(text[: _statement_start(text)])
    lines = []
    for number, block in enumerate(_ofx_transactions(text), start=1):
        if max_lines is not None and number > max_lines:
            raise SkillError(f"a statement can have at most {max_lines} lines")
        lines.append(_ofx_line(_ofx_values(block), number))
    currency, name = head.get("CURDEF"), head.get("ACCTID")
    return Statement(
        lines,
        currency.upper() if currency else None,
        f"Account …{name[-4:]}" if name else None,
    )


def _ofx_transactions(text: str) -> Iterator[str]:
    """What lies between each <STMTTRN> and its </STMTTRN>: OFX 1 (SGML) may leave
    out a value's end tag but closes every aggregate, as OFX 2 (XML) does. Found by
    moving forward only, so a file of unclosed tags costs one pass, not one each."""
    upper = text.upper()
    start = upper.find("<STMTTRN>")
    while start >= 0:
        end = upper.find("</STMTTRN>", start)
        if end < 0:
            raise SkillError("that is not a readable OFX/QFX statement: a transaction never ends")
        yield text[start + len("<STMTTRN>") : end]
        start = upper.find("<STMTTRN>", end)


def _statement_start(text: str) -> int:
    upper = text.upper()
    found = [i for i in (upper.find("<STMTRS>"), upper.find("<CCSTMTRS>")) if i >= 0]
    if not found:
        raise SkillError("that is not a readable OFX/QFX statement: it holds no bank statement")
    start = upper.find("<BANKTRANLIST>", min(found))
    return start if start >= 0 else len(text)


def _ofx_values(text: str) -> dict[str, str]:
    """Each element's first value by tag name ("NAME" inside <PAYEE> included)."""
    values: dict[str, str] = {}
    for tag, value in _OFX_VALUE.findall(text):
        value = html.unescape(value.strip())
        if value:
            values.setdefault(tag.upper(), value)
    return values


def _ofx_line(values: dict[str, str], number: int) -> StatementLine:
    where = f"transaction {number} of the OFX statement"
    day = _OFX_DATE.match(values.get("DTPOSTED", ""))
    try:
        occurred = date(int(day[1]), int(day[2]), int(day[3])) if day else None
    except ValueError:
        occurred = None
    if occurred is None:
        raise SkillError(f"{where} has no readable date ({values.get('DTPOSTED')!r})")
    if "TRNAMT" not in values:
        raise SkillError(f"{where} has no amount")
    description = values.get("NAME") or values.get("PAYEE") or values.get("MEMO") or ""
    amount = _checked_amount(values["TRNAMT"].replace(",", "."), where)
    return StatementLine(occurred, amount, description, values.get("FITID"), number)


def parse_csv(
    data: bytes, columns: CsvColumns | None = None, max_lines: int | None = None
) -> Statement:
    rows = _rows(_decode(data), max_lines)
    if len(rows) < 2:
        raise SkillError("the CSV file has no transactions under its header")
    header = [cell.strip().lower() for cell in rows[0]]
    where = _locate(header, columns or CsvColumns())
    body = rows[1:]
    fmt = (columns and columns.date_format) or _date_format([_cell(r, where["date"]) for r in body])
    lines, currencies = [], set()
    days: dict[str, date] = {}  # strptime is slow, and a statement repeats its days
    for number, row in enumerate(body, start=2):
        if len(row) < len(header):
            raise SkillError(
                f"line {number} of the CSV has {len(row)} columns, the header "
                f"{len(header)}: the file looks cut short"
            )
        try:
            text = _cell(row, where["date"])
            day = days.get(text) or days.setdefault(text, datetime.strptime(text, fmt).date())
        except ValueError as exc:
            raise SkillError(f"line {number}: {_cell(row, where['date'])!r} is not a date") from exc
        amount = _signed_amount(row, where, number)
        lines.append(StatementLine(day, amount, _cell(row, where["description"]), None, number))
        if where.get("currency") is not None:
            currencies.add(_cell(row, where["currency"]).upper())
    if len(currencies) > 1:
        raise SkillError(f"the statement mixes currencies ({', '.join(sorted(currencies))})")
    return Statement(lines, currencies.pop() if currencies else None)


def _rows(text: str, max_lines: int | None) -> list[list[str]]:
    """The rows that hold something, refusing a file of more than ``max_lines`` lines
    under its header as soon as the next one is read, not after reading it all."""
    try:
        reader = csv.reader(io.StringIO(text), dialect=_dialect(text))
        filled = (row for row in reader if any(cell.strip() for cell in row))
        rows = list(itertools.islice(filled, None if max_lines is None else max_lines + 2))
    except csv.Error as exc:
        raise SkillError(f"that CSV file cannot be read: {exc}") from exc
    if max_lines is not None and len(rows) > max_lines + 1:
        raise SkillError(f"a statement can have at most {max_lines} lines")
    return rows


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
    values = list(set(values))  # a statement has far fewer days than lines

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
    digits = re.search(r"\d.*\d|\d", raw)
    # Around the number: signs, currency symbols or codes, DR/CR. Within it: only
    # separators. "1E+30" must not become 130, nor "12abc34" 1234.
    if digits is None or re.search(r"[^\d.,' \u00a0]", digits[0]):
        try:
            plain_decimal(raw)  # says "exponent notation" where that is the trouble
        except ValueError as exc:
            raise SkillError(f"line {number}: {exc}") from exc
    cleaned = re.sub(r"[^\d.,\-]", "", raw)
    if re.search(r",\d{1,2}$", cleaned) and cleaned.rfind(",") > cleaned.rfind("."):
        cleaned = cleaned.replace(".", "").replace(",", ".")  # 1.234,56 written the European way
    value = _checked_amount(cleaned.replace(",", ""), f"line {number}", text)
    return -abs(value) if negative else value


def _checked_amount(text: str, where: str, shown: str | None = None) -> Decimal:
    """``text`` as an amount in range; ``shown`` is what the file had, when ``text``
    is that with its currency signs and separators taken out."""
    try:
        value = plain_decimal(text)
    except ValueError as exc:
        reason = f"{shown!r} is not an amount" if shown else str(exc)
        raise SkillError(f"{where}: {reason}") from exc
    if abs(value) >= MAX_AMOUNT:
        raise SkillError(f"{where}: {shown or text!r} is too large an amount")
    return value


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
