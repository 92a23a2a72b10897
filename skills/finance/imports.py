"""Importing a statement: every line checked first, then stored in one go; lines
already imported (from this file or an overlapping one) are recognised and skipped."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from sqlmodel import col, select

from skills.context import SkillContext, SkillError
from skills.finance.money import amount_in, currency_code
from skills.finance.schemas import TransactionCreate
from skills.finance.service import FinanceService
from skills.finance.statements import (
    CsvColumns,
    Statement,
    StatementLine,
    looks_like_ofx,
    parse_csv,
    parse_ofx,
)
from skills.history import ChangeSet, record_action
from store.models import Account, Transaction, TransactionKind

MAX_LINES = 20_000


@dataclass(frozen=True)
class ImportResult:
    account: str
    currency: str
    imported: int
    duplicates: int
    skipped: int  # zero-amount lines (holds, notices)


def dedupe_key(account_id: str, line: StatementLine, occurrence: int) -> str:
    """Same account, date, amount and description — and which of several identical
    lines it is, so two real $4.50 coffees on one day both count once, not zero times."""
    basis = "|".join(
        [
            account_id,
            line.occurred_on.isoformat(),
            str(line.amount),
            " ".join(line.description.lower().split()),
            str(occurrence),
        ]
    )
    return hashlib.sha256(basis.encode()).hexdigest()


class StatementImporter:
    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx
        self.finance = FinanceService(ctx)

    async def import_statement(
        self, data: bytes, *, account: str | None = None, columns: CsvColumns | None = None
    ) -> ImportResult:
        statement = parse_ofx(data) if looks_like_ofx(data) else parse_csv(data, columns)
        if len(statement.lines) > MAX_LINES:
            raise SkillError(f"a statement can have at most {MAX_LINES} lines")
        name = (account or statement.account or "Imported").strip()
        target = await self._account(name, statement)
        for number, line in enumerate(statement.lines, start=1):
            if line.amount:  # check every amount before storing anything
                try:
                    amount_in(abs(line.amount), target.currency)
                except SkillError as exc:
                    raise SkillError(f"statement line {number}: {exc}") from exc

        changes = ChangeSet()
        seen: Counter[tuple] = Counter()
        imported = duplicates = skipped = 0
        existing = await self._existing_keys()
        for line in statement.lines:
            if not line.amount:
                skipped += 1
                continue
            identity = (line.occurred_on, line.amount, line.description.lower())
            seen[identity] += 1
            key = dedupe_key(str(target.id), line, seen[identity])
            if key in existing:
                duplicates += 1
                continue
            existing.add(key)
            kind = TransactionKind.EXPENSE if line.amount < 0 else TransactionKind.INCOME
            await self.finance.log(
                TransactionCreate(
                    kind=kind,
                    amount=abs(line.amount),
                    currency=target.currency,
                    occurred_on=line.occurred_on,
                    merchant=_merchant(line.description),
                    description=line.description[:500],
                    account=target.name,
                ),
                changes,
                record=False,
                dedupe_key=key,
                external_id=line.external_id,
            )
            imported += 1
        record_action(
            self.ctx,
            "finance.import",
            "account",
            target.id,
            changes,
            account=target.name,
            imported=imported,
            duplicates=duplicates,
        )
        return ImportResult(target.name, target.currency, imported, duplicates, skipped)

    async def _account(self, name: str, statement: Statement) -> Account:
        found = (
            await self.ctx.session.exec(
                select(Account).where(
                    Account.user_id == self.ctx.user_id, col(Account.name) == name
                )
            )
        ).first()
        currency = currency_code(
            statement.currency or (found.currency if found else None) or self.ctx.settings.currency
        )
        if found is not None:
            if found.currency != currency:
                raise SkillError(
                    f"this statement is in {currency} but the account “{name}” "
                    f"is in {found.currency}"
                )
            return found
        created = Account(user_id=self.ctx.user_id, name=name, currency=currency)
        self.ctx.session.add(created)
        await self.ctx.session.flush()
        return created

    async def _existing_keys(self) -> set[str]:
        rows = await self.ctx.session.exec(
            select(Transaction.dedupe_key).where(
                Transaction.user_id == self.ctx.user_id, col(Transaction.dedupe_key).is_not(None)
            )
        )
        return {key for key in rows if key}


def _merchant(description: str) -> str:
    """The payee part of a bank description: "CARD 1234 BLUE BOTTLE SF" → "BLUE BOTTLE SF"."""
    text = description.strip()
    for prefix in ("POS ", "CARD ", "DEBIT ", "PURCHASE ", "VISA ", "ACH "):
        if text.upper().startswith(prefix):
            text = text[len(prefix) :].lstrip("0123456789 *")
    return text[:200] or description[:200]
