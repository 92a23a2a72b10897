"""Serve an ASGI app on a free loopback port inside the running event loop: how
`lifeos talk` reaches the real voice socket, and how the tests run servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from agent import server as http


@asynccontextmanager
async def loopback(
    app: Any,
    *,
    header_timeout: float = http.HEADER_TIMEOUT,
    body_timeout: float = http.BODY_TIMEOUT,
    port: int = 0,
) -> AsyncIterator[str]:
    """Yield the base URL while ``app`` answers on 127.0.0.1 (on ``port``, or a free
    one); stop it afterwards."""
    server = uvicorn.Server(
        http.config(
            app,
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(500):  # uvicorn offers a flag, not an event, for "listening"
            if server.started or serving.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            if serving.done():
                await serving  # raises what stopped it
            raise RuntimeError("the local server did not start")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
