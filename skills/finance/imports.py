"""Importing a statement: every line checked first, then stored in one go; lines
already imported (from this file or an overlapping one) are recognised and skipped.

A statement of 20,000 lines is read, checked, keyed and filed into categories in the
worker process (skills.offload: CPU work that would otherwise hold the interpreter
lock everyone else's requests need), looked up against what is stored in a few
batched queries, and inserted in batches with the event loop let run between them.
Undo deletes by the ids the audit row lists, in batches, not row by row."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import pickle
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam
from sqlmodel import col, select

from skills import access
from skills.access import Capability
from skills.bulk import BATCH, insert_rows
from skills.context import SkillContext, SkillError
from skills.finance.categories import choose
from skills.finance.money import amount_in, currency_code
from skills.finance.service import FinanceService
from skills.finance.statements import (
    CsvColumns,
    Statement,
    StatementLine,
    looks_like_ofx,
    parse_csv,
    parse_ofx,
)
from skills.history import ChangeSet, record_bulk_action
from skills.offload import in_worker, pack, unpack
from store.models import Account, Category, Transaction, TransactionKind

MAX_LINES = 20_000
LOOKUP_BATCH = 5_000  # keys per duplicate lookup


@dataclass(frozen=True)
class ImportResult:
    account: str
    currency: str
    imported: int
    duplicates: int
    skipped: int  # zero-amount lines (holds, notices)


def dedupe_key(account_key: str, line: StatementLine, occurrence: int) -> str:
    """Same account, date, amount and description — and which of several identical
    lines it is, so two real $4.50 coffees on one day both count once, not zero times."""
    basis = "|".join(
        [
            account_key,
            line.occurred_on.isoformat(),
            str(line.amount),
            " ".join(line.description.lower().split()),
            str(occurrence),
        ]
    )
    return hashlib.sha256(basis.encode()).hexdigest()


def read_statement(data: bytes, columns: CsvColumns | None = None) -> Statement:
    """Parse and check a whole file, refusing one of more than MAX_LINES lines as soon
    as that is known. CPU work: the worker process calls it."""
    if looks_like_ofx(data):
        return parse_ofx(data, MAX_LINES)
    return parse_csv(data, columns, MAX_LINES)


def keyed_lines(account_key: str, lines: list[StatementLine]) -> dict[str, StatementLine]:
    """The lines that move money, by dedupe key; a line whose key repeats one earlier in
    the file (the same line written differently) is left out."""
    seen: Counter[tuple] = Counter()
    keyed: dict[str, StatementLine] = {}
    for line in lines:
        if line.amount:
            identity = (line.occurred_on, line.amount, line.description.lower())
            seen[identity] += 1
            keyed.setdefault(dedupe_key(account_key, line, seen[identity]), line)
    return keyed


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class _Read:
    """A statement as the worker read it: what names the account, and its lines
    (pickled: the service process only hands them back to the worker)."""

    account: str | None
    currency: str | None
    lines: bytes
    count: int  # lines read
    moving: int  # lines that move money


class _Draft(NamedTuple):
    """One line ready to store: its key, what it says, and the category chosen."""

    key: str
    occurred_on: date
    amount: Decimal  # positive; the kind says which way
    kind: TransactionKind
    merchant: str
    description: str
    external_id: str | None
    category: str
    confidence: float
    reason: str


def read_lines(data: bytes, columns: CsvColumns | None) -> _Read:
    """Worker side: parse and check the file's structure."""
    statement = read_statement(data, columns)
    lines = statement.lines
    moving = sum(1 for line in lines if line.amount)
    return _Read(statement.account, statement.currency, pickle.dumps(lines), len(lines), moving)


@dataclass(frozen=True)
class _Drafted:
    """The lines ready to store: their keys and categories apart (what the service
    process needs first), the lines themselves packed (unpacked a batch at a time as
    they are inserted, so that they are never all alive there at once)."""

    keys: list[str]
    categories: list[tuple[str, TransactionKind]]
    drafts: list[bytes]


def drafted_lines(
    lines: bytes, account_key: str, currency: str, learned: dict[str, str]
) -> _Drafted:
    """Worker side: amounts checked against the account's currency, lines keyed for
    deduplication, each filed into a category."""
    keyed = checked_lines(account_key, currency, pickle.loads(lines))  # noqa: S301
    drafts = _drafts(keyed, learned)
    categories = list(dict.fromkeys((draft.category, draft.kind) for draft in drafts))
    return _Drafted(list(keyed), categories, pack(drafts, BATCH))


def checked_lines(
    account_key: str, currency: str, lines: list[StatementLine]
) -> dict[str, StatementLine]:
    """Every amount checked against the account's currency before anything is stored,
    then the lines keyed for deduplication."""
    for number, line in enumerate(lines, start=1):
        if line.amount:
            try:
                amount_in(abs(line.amount), currency)
            except SkillError as exc:
                raise SkillError(f"statement line {line.line or number}: {exc}") from exc
    return keyed_lines(account_key, lines)


def _drafts(keyed: dict[str, StatementLine], learned: dict[str, str]) -> list[_Draft]:
    """Each line's kind, merchant and category; a choice is made once per distinct
    merchant and description (statements repeat themselves)."""
    chosen: dict[tuple, Any] = {}
    drafts = []
    for key, line in keyed.items():
        kind = TransactionKind.EXPENSE if line.amount < 0 else TransactionKind.INCOME
        merchant = _merchant(line.description)
        description = line.description[:500]
        topic = (merchant, description, kind)
        if topic not in chosen:
            chosen[topic] = choose(merchant, description, kind, learned)
        choice = chosen[topic]
        external = line.external_id[:200] if line.external_id else None
        drafts.append(
            _Draft(
                key,
                line.occurred_on,
                abs(line.amount),
                kind,
                merchant,
                description,
                external,
                choice.category,
                choice.confidence,
                choice.reason,
            )
        )
    return drafts


def account_key(account: Account, household_id: uuid.UUID | None) -> str:
    """What a line's dedupe key says of its account. In a household's books it is
    the account's name there, not whose account row it is: the same statement
    imported by two members is recognised the second time."""
    if household_id is None:
        return str(account.id)
    return f"{household_id}|{account.name.lower()}"


class StatementImporter:
    """Imports into the user's own books, or into a household's (``household_id``)
    for a role that may add to them (skills.access MONEY_LOG: members too)."""

    def __init__(self, ctx: SkillContext, household_id: uuid.UUID | None = None) -> None:
        self.ctx = ctx
        self.household_id = household_id
        self.finance = FinanceService(ctx)

    async def import_statement(
        self, data: bytes, *, account: str | None = None, columns: CsvColumns | None = None
    ) -> ImportResult:
        if self.household_id is not None:  # before any of the file is read
            await access.require_household(
                self.ctx, self.household_id, Capability.MONEY_LOG, doing="import into its books"
            )
        read = await in_worker(read_lines, data, columns)
        name = (account or read.account or "Imported").strip()
        target = await self._account(name, read.currency)
        learned = await self.finance.learned(self.household_id)
        key = account_key(target, self.household_id)
        drafted = await in_worker(drafted_lines, read.lines, key, target.currency, learned)
        stored = await self._existing_keys(drafted.keys)
        ids = await self._insert(target, drafted, stored)
        await record_bulk_action(
            self.ctx,
            "finance.import",
            "account",
            target.id,
            ChangeSet(),
            added={Transaction.__tablename__: ids},
            account=target.name,
            imported=len(ids),
            duplicates=read.moving - len(ids),
        )
        return ImportResult(
            target.name,
            target.currency,
            imported=len(ids),
            duplicates=read.moving - len(ids),  # stored before, or repeated in this file
            skipped=read.count - read.moving,
        )

    async def _insert(
        self, target: Account, drafted: _Drafted, stored: set[str]
    ) -> list[uuid.UUID]:
        """Store the lines not ``stored`` yet as transactions, filed into categories:
        plain rows, not ORM objects (building those was most of a large import's time),
        built a batch at a time just before it is inserted."""
        categories: dict[tuple[str, TransactionKind], Category] = {}
        for name, kind in drafted.categories:  # a few distinct names: found or created once
            categories[(name, kind)] = await self.finance.category_named(
                name, create=True, kind=kind, household_id=self.household_id
            )
        now = self.ctx.now()

        def row(draft: _Draft) -> dict[str, Any]:
            return {
                "id": uuid.uuid4(),
                "user_id": self.ctx.user_id,
                "household_id": self.household_id,
                "account_id": target.id,
                "kind": draft.kind,
                "amount": draft.amount,
                "currency": target.currency,
                "occurred_on": draft.occurred_on,
                "description": draft.description,
                "merchant": draft.merchant,
                "category_id": categories[(draft.category, draft.kind)].id,
                "project_id": None,
                "receipt_url": None,
                "external_id": draft.external_id,
                "dedupe_key": draft.key,
                "meta": {"category_confidence": draft.confidence, "category_reason": draft.reason},
                "created_at": now,
                "updated_at": now,
            }

        drafts = itertools.chain.from_iterable(map(unpack, drafted.drafts))
        fresh = (row(draft) for draft in drafts if draft.key not in stored)
        return await insert_rows(self.ctx.session, Transaction, fresh)

    async def _account(self, name: str, currency: str | None) -> Account:
        found = (
            await self.ctx.session.exec(
                select(Account).where(
                    Account.user_id == self.ctx.user_id, col(Account.name) == name
                )
            )
        ).first()
        code = currency_code(
            currency or (found.currency if found else None) or self.ctx.settings.currency
        )
        if found is not None:
            if found.currency != code:
                raise SkillError(
                    f"this statement is in {code} but the account “{name}” is in {found.currency}"
                )
            return found
        created = Account(user_id=self.ctx.user_id, name=name, currency=code)
        self.ctx.session.add(created)
        await self.ctx.session.flush()
        return created

    async def _existing_keys(self, keys: list[str]) -> set[str]:
        """Which of these keys are stored already, a few thousand per query. The keys
        (hex digests) are written into the SQL as constants: PostgreSQL looks up a
        list of constants in a hash, but compares a list of parameters one by one
        with every row it scans (112 s for 20,000 keys against 40,000 rows)."""
        found: set[str] = set()
        for batch in _chunks(keys, LOOKUP_BATCH):
            listed = bindparam("keys", batch, expanding=True, literal_execute=True)
            books = (
                Transaction.user_id == self.ctx.user_id
                if self.household_id is None
                else Transaction.household_id == self.household_id
            )
            rows = await self.ctx.session.exec(
                select(Transaction.dedupe_key).where(books, col(Transaction.dedupe_key).in_(listed))
            )
            found.update(key for key in rows if key)
            await asyncio.sleep(0)
        return found


def _merchant(description: str) -> str:
    """The payee part of a bank description: "CARD 1234 BLUE BOTTLE SF" → "BLUE BOTTLE SF"."""
    text = description.strip()
    for prefix in ("POS ", "CARD ", "DEBIT ", "PURCHASE ", "VISA ", "ACH "):
        if text.upper().startswith(prefix):
            text = text[len(prefix) :].lstrip("0123456789 *")
    return text[:200] or description[:200]
