"""One ASGI middleware watches every HTTP request: it gives it an id (the client's
X-Request-ID when it is a plain token, else a new one) that its log lines carry and
its answer echoes, times it into the latency histogram under its route template
(`/v1/tasks/{task_id}`, never the raw path: one series per route, not per task),
and wraps it in a span when tracing is on. WebSockets get an id; their turns are
measured by the voice pipeline."""

from __future__ import annotations

import re
import secrets
import time
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.observe import context
from agent.observe.metrics import Metrics

if TYPE_CHECKING:
    from agent.observe.tracing import Tracing

HEADER = b"x-request-id"
_CLIENT_ID = re.compile(rb"[A-Za-z0-9_.\-]{8,64}")
UNMATCHED = "(unmatched)"  # a 404 for a path no route serves: all such in one series


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = context.request_id.set(request_id)
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send, request_id)
        finally:
            context.request_id.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        services = scope["app"].state.services
        metrics: Metrics = services.metrics
        tracing: Tracing | None = services.tracing
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering
        span = tracing.request_span(scope["method"], request_id) if tracing else None

        async def answering(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, answering)
        finally:
            route = route_template(scope)
            metrics.request(route, scope["method"], status, time.perf_counter() - started)
            if span is not None and tracing is not None:
                tracing.end_request_span(span, scope["method"], route, status)


def route_template(scope: Scope) -> str:
    """The path template of the route that served the request, as the app declares
    it (mounted folders by their prefix)."""
    route: Any = scope.get("route")  # set by the router on a match (or a 405's partial one)
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER and _CLIENT_ID.fullmatch(value):
            return value.decode()
    return secrets.token_hex(8)
