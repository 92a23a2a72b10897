"""Guards in front of the routes: failed sign-ins limited per client address, and
security headers on every response. Pure ASGI middleware, so they see HTTP and the
voice socket alike and never buffer a body."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_SIGN_IN_LIMIT = "20/minute"
UNTHROTTLED = frozenset({"/healthz", "/readyz"})  # probes from the same address keep working


class SignInThrottle:
    """Failed sign-ins per client address in a moving window (in memory: one process
    serves a household). Over the limit, the address is refused until the oldest
    failure leaves the window, whatever token it brings: otherwise guessing goes on."""

    def __init__(self, limit: str = DEFAULT_SIGN_IN_LIMIT) -> None:
        self._item = parse(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None when it may now."""
        if self._limiter.test(self._item, address):
            return None
        reset = self._limiter.get_window_stats(self._item, address).reset_time
        return max(1, math.ceil(reset - time.time()))

    def failed(self, address: str) -> None:
        self._limiter.hit(self._item, address)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def too_many(wait: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"detail": f"too many failed sign-ins; try again in {wait} s"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(wait).encode()),
    ]
    return headers, body


class SignInGuard:
    """Counts every 401 answer against the client's address and answers 429 with
    Retry-After once the address is over the limit; the voice socket reports its own
    refused tokens to the same throttle (``app.state.services.sign_ins``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in UNTHROTTLED:
            await self.app(scope, receive, send)
            return
        throttle: SignInThrottle = scope["app"].state.services.sign_ins
        address = client_address(scope)
        wait = throttle.retry_after(address)
        if wait is not None:
            await _refuse(scope, receive, send, wait)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                throttle.failed(address)
            await send(message)

        await self.app(scope, receive, counting if scope["type"] == "http" else send)


async def _refuse(scope: Scope, receive: Receive, send: Send, wait: int) -> None:
    headers, body = too_many(wait)
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # websocket.connect: the handshake is answered, not accepted
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": 429, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:  # 1013: try again later
        await send({"type": "websocket.close", "code": 1013, "reason": "too many failed sign-ins"})


# The page loads its script, worklet and style from /web and talks to its own origin
# (fetch and the voice socket): nothing inline, nothing from elsewhere, no framing.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's API docs load Swagger UI / ReDoc from jsDelivr and start them inline.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; connect-src 'self'; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src blob:; font-src https://fonts.gstatic.com; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """Content-Security-Policy, X-Frame-Options, nosniff and a referrer policy on
    every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"].startswith(DOCS_PATHS) else PAGE_POLICY
        extra = [
            (b"content-security-policy", policy.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
