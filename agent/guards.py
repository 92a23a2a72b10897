"""Guards in front of the routes: requests limited per token and per client address,
failed sign-ins per address, and security headers on every response. Pure ASGI
middleware, so they see HTTP and the voice socket alike and never buffer a body."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse

from store.limits import Counts, Limiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_SIGN_IN_LIMIT = "20/minute"
# Codes sent by email or SMS per account: each costs a message (and an SMS money), and
# a flood of them is harassment of the person whose address it is.
DEFAULT_CODE_LIMIT = "5/15minutes"
# Requests a token may make, and a client address (a household behind one router);
# generous for people and their pages, a wall for a script gone wild. Paths where each
# request is a guess at a secret (a PIN, an invitation code, a sign-in) get a far
# stricter limit per address.
DEFAULT_TOKEN_LIMIT = "600/minute"  # noqa: S105 - a rate, not a secret
DEFAULT_ADDRESS_LIMIT = "1200/minute"
DEFAULT_SENSITIVE_LIMIT = "10/minute"
SENSITIVE_PREFIXES = ("/v1/auth/", "/v1/invitations", "/v1/me/phone-pin")
# The largest request body taken: a 10 MB statement import with its form's wrapping.
DEFAULT_MAX_BODY_BYTES = 12 * 1024 * 1024
UNTHROTTLED = frozenset({"/healthz", "/readyz"})  # probes from the same address keep working


class SignInThrottle:
    """Failed sign-ins per client address in a moving window. Over the limit, the
    address is refused until the oldest failure leaves the window, whatever token it
    brings: otherwise guessing goes on."""

    def __init__(
        self,
        limit: str = DEFAULT_SIGN_IN_LIMIT,
        counts: Counts | None = None,
        kind: str = "sign-in",
    ) -> None:
        """``kind`` keeps apart counts of different things in one storage (failures
        per address, per account; codes sent per account)."""
        self._item = parse(limit)
        self._limiter = Limiter(counts or Counts(), moving=True)
        self._kind = kind

    async def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None when it may now."""
        return await self._limiter.retry_after(self._item, self._kind, address)

    async def failed(self, address: str) -> None:
        await self._limiter.hit(self._item, self._kind, address)


@dataclass(frozen=True)
class RequestRates:
    token: RateLimitItem
    address: RateLimitItem
    sensitive: RateLimitItem

    @classmethod
    def parse(cls, token: str, address: str, sensitive: str) -> RequestRates:
        return cls(parse(token), parse(address), parse(sensitive))


class RequestThrottle:
    """Every request (and voice socket opened) counted against its bearer token and its
    client address; a sensitive path also against the stricter limit. The token is
    keyed by a hash of it, not its claims: a request with a forged token is refused
    by the sign-in check anyway, and counting it costs no signature check here."""

    def __init__(self, rates: RequestRates | None = None, counts: Counts | None = None) -> None:
        self.rates = rates or RequestRates.parse(
            DEFAULT_TOKEN_LIMIT, DEFAULT_ADDRESS_LIMIT, DEFAULT_SENSITIVE_LIMIT
        )
        self._limiter = Limiter(counts or Counts())

    async def wait(self, address: str, token: str | None, path: str) -> int | None:
        """Seconds the client must wait, or None when this request may go on."""
        checks: list[tuple[RateLimitItem, str, str]] = [(self.rates.address, "address", address)]
        if sensitive(path):
            checks.append((self.rates.sensitive, "sensitive", address))
        if token:
            key = hashlib.sha256(token.encode()).hexdigest()[:32]
            checks.append((self.rates.token, "token", key))
        waits = [await self._limiter.hit(item, kind, key) for item, kind, key in checks]
        refused = [w for w in waits if w is not None]
        return max(refused) if refused else None


def sensitive(path: str) -> bool:
    """A path where each request guesses a secret, or sends a message to someone (an
    invitation by email or SMS: a flood of them is spam on our name)."""
    return path.startswith(SENSITIVE_PREFIXES) or (
        path.startswith("/v1/households/") and path.endswith("/invitations")
    )


def bearer_token(scope: Scope) -> str | None:
    """The request's bearer token: the Authorization header, or the voice socket's
    ``token`` query parameter."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            return credentials.strip() or None if scheme.lower() == "bearer" else None
    if scope["type"] == "websocket":
        from urllib.parse import parse_qs

        found = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        return found[0] if found else None
    return None


def limited(scope: Scope) -> bool:
    """HTTP requests and voice sockets count against the limits; the probes never do."""
    return scope["type"] in ("http", "websocket") and scope["path"] not in UNTHROTTLED


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def too_many(wait: int, what: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"detail": f"too many {what}; try again in {wait} s"}).encode()
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
        if not limited(scope):
            await self.app(scope, receive, send)
            return
        throttle: SignInThrottle = scope["app"].state.services.sign_ins
        address = client_address(scope)
        wait = await throttle.retry_after(address)
        if wait is not None:
            await refuse(scope, receive, send, wait, "failed sign-ins")
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                await throttle.failed(address)
            await send(message)

        await self.app(scope, receive, counting if scope["type"] == "http" else send)


class RequestGuard:
    """Answers 429 with Retry-After once a token or an address is over its limit
    (``app.state.services.requests``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not limited(scope):
            await self.app(scope, receive, send)
            return
        throttle: RequestThrottle = scope["app"].state.services.requests
        wait = await throttle.wait(client_address(scope), bearer_token(scope), scope["path"])
        if wait is not None:
            await refuse(scope, receive, send, wait, "requests")
            return
        await self.app(scope, receive, send)


async def refuse(scope: Scope, receive: Receive, send: Send, wait: int, what: str) -> None:
    headers, body = too_many(wait, what)
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # websocket.connect: the handshake is answered, not accepted
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": 429, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:  # 1013: try again later
        await send({"type": "websocket.close", "code": 1013, "reason": f"too many {what}"})


class BodyLimit:
    """413 for a request body over ``max_bytes``: at once when its Content-Length says
    so, and as soon as a body without one (chunked) grows past it, so no handler ever
    buffers more than the limit. (Raising from ``receive`` would not do: FastAPI turns
    any failure to read a body into its own 400.)"""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes and not started:
                    refused = True
                    await self._too_large(send)
                    return {"type": "http.disconnect"}  # the handler stops reading
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 went out: whatever the handler answers is dropped
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _too_large(self, send: Send) -> None:
        size = self.max_bytes
        limit = f"{size // 1024**2} MB" if size >= 1024**2 else f"{size // 1024} KB"
        body = json.dumps({"detail": f"the request body is larger than {limit}"}).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


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
# GraphiQL (only with LIFEOS_DEVELOPMENT) loads from unpkg and starts inline.
GRAPHIQL_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://unpkg.com; "
    "style-src 'self' 'unsafe-inline' https://unpkg.com; connect-src 'self'; "
    "img-src 'self' data:; font-src https://unpkg.com data:; base-uri 'none'; "
    "frame-ancestors 'none'"
)


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
        if scope["path"] == "/graphql":
            policy = GRAPHIQL_POLICY
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
