"""Bank feeds through Plaid: link an item, then pull its transactions with
/transactions/sync and the cursor it returns. The access token is sealed at rest.

plaid-python is a blocking client, so every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement
from sqlmodel import col, select

from skills import access
from skills.access import Capability
from skills.context import Conflict, NotFound, SkillContext, SkillError, Unavailable
from skills.finance.money import amount_in
from skills.finance.schemas import TransactionCreate
from skills.finance.service import FinanceService
from skills.history import ChangeSet, record_action, snapshot
from skills.sealing import seal, unseal
from store.models import Account, BankLink, Membership, Transaction, TransactionKind

if TYPE_CHECKING:  # the Plaid client is imported where it is used: it is slow to load
    from plaid.exceptions import ApiException

T = TypeVar("T")
MAX_PAGES = 100  # a safety stop: Plaid pages hold up to 500 transactions


class BankNotConfigured(SkillError):
    status = 503


@dataclass
class BankSync:
    added: int = 0
    modified: int = 0
    removed: int = 0


class BankService:
    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx
        self.session = ctx.session

    @property
    def api(self) -> Any:
        if self.ctx.bank is None:
            raise BankNotConfigured(
                "bank linking is not set up: set LIFEOS_PLAID_CLIENT_ID and LIFEOS_PLAID_SECRET"
            )
        return self.ctx.bank

    async def link_token(self) -> str:
        """A token for the Plaid Link widget, which gives back a public token."""
        from plaid.model.country_code import CountryCode
        from plaid.model.link_token_create_request import LinkTokenCreateRequest
        from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
        from plaid.model.products import Products

        request = LinkTokenCreateRequest(
            user=LinkTokenCreateRequestUser(client_user_id=str(self.ctx.user_id)),
            client_name="Life OS",
            products=[Products("transactions")],
            country_codes=[CountryCode("US")],
            language="en",
        )
        response = await self._call(self.api.link_token_create, request)
        return str(response["link_token"])

    async def connect_bank(
        self,
        public_token: str,
        institution: str | None = None,
        household_id: uuid.UUID | None = None,
    ) -> tuple[BankLink, BankSync]:
        """Exchange Link's public token, keep the access token sealed, pull transactions
        (into a household's books, for a role that keeps them, when one is given)."""
        from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest

        if household_id is not None:
            await access.require_household(
                self.ctx, household_id, Capability.MONEY_WRITE, doing="connect banks to its books"
            )
        response = await self._call(
            self.api.item_public_token_exchange,
            ItemPublicTokenExchangeRequest(public_token=public_token),
        )
        item_id = str(response["item_id"])
        link = (
            await self.session.exec(
                select(BankLink).where(
                    BankLink.user_id == self.ctx.user_id, BankLink.item_id == item_id
                )
            )
        ).first()
        if link is None:
            link = BankLink(
                user_id=self.ctx.user_id,
                item_id=item_id,
                household_id=household_id,
                access_token_sealed="",
            )
        elif link.household_id != household_id:  # its rows are in those books already
            raise Conflict("that bank already feeds other books: disconnect it there first")
        link.access_token_sealed = seal(self.ctx, str(response["access_token"]))
        link.institution = institution or link.institution
        self.session.add(link)
        await self.session.flush()
        record_action(
            self.ctx,
            "finance.bank_connect",
            "bank_link",
            link.id,
            ChangeSet(),
            item_id=item_id,
            institution=link.institution,
        )
        return link, await self.sync(link.id)

    async def links(self) -> list[BankLink]:
        """The user's own feeds and those of the households whose books they keep."""
        shown = await access.visible(self.ctx, BankLink, Capability.MONEY_READ)
        rows = await self.session.exec(select(BankLink).where(shown))
        return sorted(rows, key=lambda link: link.user_id != self.ctx.user_id)

    async def disconnect(self, link_id: Any) -> None:
        from plaid.model.item_remove_request import ItemRemoveRequest

        link = await self._link(link_id, "disconnect")
        with suppress(SkillError):  # gone at Plaid already: forget it here anyway
            await self._call(
                self.api.item_remove,
                ItemRemoveRequest(access_token=unseal(self.ctx, link.access_token_sealed)),
            )
        await self.session.delete(link)
        await self.session.flush()

    async def sync(self, link_id: Any) -> BankSync:
        """Page through /transactions/sync from the stored cursor. The new cursor is kept
        only with the transactions it covers, in the same database transaction."""
        from plaid.model.transactions_sync_request import TransactionsSyncRequest

        link = await self._link(link_id, "sync")
        token = unseal(self.ctx, link.access_token_sealed)
        cursor, result, changes = link.cursor, BankSync(), ChangeSet()
        accounts: dict[str, Account] = {}
        for _page in range(MAX_PAGES):
            request = TransactionsSyncRequest(
                access_token=token, **({"cursor": cursor} if cursor else {})
            )
            page = (await self._call(self.api.transactions_sync, request)).to_dict()
            for raw in page.get("accounts", []):
                accounts[raw["account_id"]] = await self._account(raw, link, changes)
            for raw in page["added"] + page["modified"]:
                counted = await self._upsert(raw, link, accounts, changes)
                setattr(result, counted, getattr(result, counted) + 1)
            for raw in page["removed"]:
                result.removed += await self._remove(link, raw["transaction_id"], changes)
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        link.cursor, link.last_synced_at = cursor, self.ctx.now()
        self.session.add(link)
        await self.session.flush()
        record_action(
            self.ctx,
            "finance.bank_sync",
            "bank_link",
            link.id,
            changes,
            new=result.added,  # not "added": the audit row's name for an import's ids
            modified=result.modified,
            removed=result.removed,
        )
        return result

    def _fed(self, link: BankLink) -> ColumnElement[bool]:
        """The books a feed fills: its household's (whoever synced it), or the user's."""
        if link.household_id is not None:
            return Transaction.household_id == link.household_id
        return Transaction.user_id == self.ctx.user_id

    async def _upsert(
        self, raw: dict, link: BankLink, accounts: dict[str, Account], changes: ChangeSet
    ) -> str:
        account = accounts.get(raw["account_id"]) or await self._known_account(
            raw["account_id"], link
        )
        currency = (
            raw.get("iso_currency_code") or raw.get("unofficial_currency_code") or account.currency
        )
        signed = Decimal(str(raw["amount"]))  # Plaid: positive is money out
        kind = TransactionKind.EXPENSE if signed > 0 else TransactionKind.INCOME
        amount = amount_in(abs(signed), currency)
        merchant = raw.get("merchant_name") or raw.get("name")
        existing = (
            await self.session.exec(
                select(Transaction).where(
                    self._fed(link), Transaction.external_id == raw["transaction_id"]
                )
            )
        ).first()
        if existing is None:
            await FinanceService(self.ctx).log(
                TransactionCreate(
                    kind=kind,
                    amount=amount,
                    currency=currency,
                    occurred_on=raw["date"],
                    merchant=merchant,
                    description=raw.get("name"),
                    household_id=link.household_id,
                ),
                changes,
                record=False,
                external_id=raw["transaction_id"],
                account_id=account.id,
            )
            return "added"
        before = snapshot(existing)
        existing.kind, existing.amount, existing.currency = kind, amount, currency
        existing.occurred_on, existing.merchant = raw["date"], merchant
        existing.updated_at = self.ctx.now()
        self.session.add(existing)
        await self.session.flush()
        changes.updated(existing, before)
        return "modified"

    async def _remove(self, link: BankLink, transaction_id: str, changes: ChangeSet) -> int:
        found = (
            await self.session.exec(
                select(Transaction).where(
                    self._fed(link), Transaction.external_id == transaction_id
                )
            )
        ).first()
        if found is None:
            return 0
        changes.deleted(found)
        await self.session.delete(found)
        await self.session.flush()
        return 1

    async def _account(self, raw: dict, link: BankLink, changes: ChangeSet) -> Account:
        account = await self._known_account(raw["account_id"], link, required=False)
        if account is not None:
            return account
        balances = raw.get("balances") or {}
        name = f"{raw.get('name') or 'Account'} …{raw.get('mask') or ''}".strip()
        account = Account(
            user_id=self.ctx.user_id,
            name=name,
            external_id=raw["account_id"],
            kind=str(raw.get("subtype") or raw.get("type") or "checking"),
            currency=balances.get("iso_currency_code") or self.ctx.settings.currency,
            institution=link.institution,
        )
        self.session.add(account)
        await self.session.flush()
        changes.created(account)
        return account

    async def _known_account(
        self, external_id: str, link: BankLink, *, required: bool = True
    ) -> Any:
        """The account a feed's transactions land in. A household's feed keeps the
        accounts an earlier sync made, whoever in the household made them."""
        whose = (
            col(Account.user_id).in_(
                select(Membership.user_id).where(Membership.household_id == link.household_id)
            )
            if link.household_id is not None
            else Account.user_id == self.ctx.user_id
        )
        found = (
            await self.session.exec(
                select(Account).where(whose, col(Account.external_id) == external_id)
            )
        ).first()
        if found is None and required:
            raise SkillError(f"the bank sent a transaction for an unknown account {external_id}")
        return found

    async def _link(self, link_id: Any, doing: str) -> BankLink:
        """A feed the user may manage: their own, or a household's they keep the books of."""
        try:
            link = await self.session.get(BankLink, uuid.UUID(str(link_id)))
        except ValueError:
            link = None
        if link is None:
            raise NotFound("no such bank link")
        await access.require(
            self.ctx, link, Capability.MONEY_WRITE, noun="bank link", what="bank link", doing=doing
        )
        return link

    async def _call(self, method: Callable[[Any], T], request: Any) -> T:
        import urllib3
        from plaid.exceptions import ApiException, OpenApiException

        try:
            return await asyncio.to_thread(method, request)
        except ApiException as exc:
            raise _plaid_error(exc) from exc
        except OpenApiException as exc:
            raise Unavailable(f"the bank service sent an answer I can't read: {exc}") from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            raise Unavailable(f"the bank service cannot be reached: {exc}") from exc


def _plaid_error(exc: ApiException) -> SkillError:
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        body = {}
    message = body.get("display_message") or body.get("error_message") or exc.reason
    code = body.get("error_code") or exc.status
    if exc.status and 400 <= exc.status < 500:
        return SkillError(f"the bank link failed: {message} ({code})")
    return Unavailable(f"the bank service failed: {message} ({code})")


def plaid_client(host: str, client_id: str, secret: str, timeout: float = 20.0) -> Any:
    """A PlaidApi for ``host`` (Plaid's sandbox or production address, or a local one)."""
    import plaid
    from plaid.api import plaid_api

    configuration = plaid.Configuration(
        host=host, api_key={"clientId": client_id, "secret": secret}
    )
    api = plaid_api.PlaidApi(plaid.ApiClient(configuration))
    api.api_client.configuration.timeout = timeout
    return api
