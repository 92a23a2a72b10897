"""A webhook receiver on a loopback port: it keeps what it is sent and answers with
the statuses a test gives it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agent.loopback import loopback


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    status: int = 200  # what it answers
    location: str | None = None  # with a 3xx: where it points
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set by each request

    async def hook(self, request: Request) -> Response:
        self.received.append(Received(dict(request.headers), (await request.body()).decode()))
        self.arrived.set()
        headers = {"location": self.location} if self.location else None
        return Response(status_code=self.status, headers=headers)


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])])
    async with loopback(app) as base:
        receiver.url = f"{base}/hook"
        yield receiver
