"""A local server that speaks the Plaid endpoints Life OS uses, for tests: the real
plaid-python client is pointed at it. Its transaction feed is scripted by the test."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.local_server import serve

CLIENT_ID, SECRET = "test-client", "test-secret"
GOOD_PUBLIC_TOKEN = "public-sandbox-good"


LOCATION_FIELDS = (
    "address",
    "city",
    "region",
    "postal_code",
    "country",
    "lat",
    "lon",
    "store_number",
)
PAYMENT_META_FIELDS = (
    "reference_number",
    "ppd_id",
    "payee",
    "by_order_of",
    "payer",
    "payment_method",
    "payment_processor",
    "reason",
)


def transaction(
    transaction_id: str, amount: float, name: str, day: str, account_id: str = "acc-checking"
) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "account_id": account_id,
        "amount": amount,
        "iso_currency_code": "USD",
        "unofficial_currency_code": None,
        "date": day,
        "authorized_date": day,
        "authorized_datetime": None,
        "datetime": None,
        "name": name,
        "merchant_name": name.title(),
        "pending": False,
        "pending_transaction_id": None,
        "payment_channel": "in store",
        "transaction_code": None,
        "category": None,
        "category_id": None,
        "location": dict.fromkeys(LOCATION_FIELDS),
        "payment_meta": dict.fromkeys(PAYMENT_META_FIELDS),
        "account_owner": None,
    }


ACCOUNT = {
    "account_id": "acc-checking",
    "mask": "0000",
    "name": "Plaid Checking",
    "official_name": "Plaid Gold Standard 0% Interest Checking",
    "type": "depository",
    "subtype": "checking",
    "balances": {
        "available": 100.0,
        "current": 110.0,
        "limit": None,
        "iso_currency_code": "USD",
        "unofficial_currency_code": None,
    },
}


@dataclass
class PlaidFeed:
    """Pages served in order; each page is (added, modified, removed)."""

    pages: list[tuple[list, list, list]] = field(default_factory=list)
    served: list[str | None] = field(default_factory=list)  # cursors the client sent
    fail_next: bool = False


def build_app(feed: PlaidFeed) -> FastAPI:
    app = FastAPI()

    def error(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse(
            status_code=status,
            content={
                "error_type": "INVALID_INPUT",
                "error_code": code,
                "error_message": message,
                "display_message": None,
                "request_id": "req-err",
            },
        )

    def authorized(request: Request) -> bool:
        return (
            request.headers.get("plaid-client-id") == CLIENT_ID
            and request.headers.get("plaid-secret") == SECRET
        )

    @app.post("/link/token/create")
    async def link_token(request: Request) -> JSONResponse:
        if not authorized(request):
            return error(400, "INVALID_API_KEYS", "invalid client_id or secret provided")
        return JSONResponse(
            {
                "link_token": "link-sandbox-123",
                "request_id": "req-1",
                "expiration": "2030-01-01T00:00:00Z",
            }
        )

    @app.post("/item/public_token/exchange")
    async def exchange(request: Request) -> JSONResponse:
        body = await request.json()
        if not authorized(request):
            return error(400, "INVALID_API_KEYS", "invalid client_id or secret provided")
        if body.get("public_token") != GOOD_PUBLIC_TOKEN:
            return error(
                400, "INVALID_PUBLIC_TOKEN", "provided public token is in an invalid format"
            )
        return JSONResponse(
            {"access_token": "access-sandbox-xyz", "item_id": "item-1", "request_id": "req-2"}
        )

    @app.post("/transactions/sync")
    async def sync(request: Request) -> JSONResponse:
        body = await request.json()
        if body.get("access_token") != "access-sandbox-xyz":
            return error(400, "INVALID_ACCESS_TOKEN", "provided access token is invalid")
        if feed.fail_next:
            feed.fail_next = False
            return error(500, "INTERNAL_SERVER_ERROR", "an unexpected error occurred")
        cursor = body.get("cursor")
        feed.served.append(cursor)
        index = int(cursor.removeprefix("c")) if cursor else 0
        added, modified, removed = feed.pages[index] if index < len(feed.pages) else ([], [], [])
        has_more = index + 1 < len(feed.pages)
        return JSONResponse(
            {
                "transactions_update_status": "HISTORICAL_UPDATE_COMPLETE",
                "accounts": [ACCOUNT],
                "added": added,
                "modified": modified,
                "removed": [{"transaction_id": t, "account_id": "acc-checking"} for t in removed],
                "next_cursor": f"c{min(index + 1, len(feed.pages))}",
                "has_more": has_more,
                "request_id": "req-3",
            }
        )

    @app.post("/item/remove")
    async def remove(request: Request) -> JSONResponse:
        return JSONResponse({"request_id": "req-4"})

    return app


def plaid_server(feed: PlaidFeed) -> AbstractAsyncContextManager[str]:
    return serve(build_app(feed))
