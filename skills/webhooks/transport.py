"""The HTTP client webhooks go out on: every connection's real peer address is
checked the moment it opens, before a byte of the request is written, so a host name
that resolved to a public address when the subscription was made and to an inside
one now (DNS rebinding) is refused all the same. Redirects are never followed and
proxies from the environment never used (a proxy would hide the real peer)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from skills.addresses import Network, RefusedTarget, is_allowed


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, allowed: list[Network]) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allowed = allowed

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        **kwargs: Any,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, **kwargs)
        peer = stream.get_extra_info("server_addr")
        if not peer or not is_allowed(str(peer[0]), self._allowed):
            await stream.aclose()
            raise RefusedTarget(f"{host}:{port}")
        return stream

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise RefusedTarget("unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool whose connections are checked."""

    def __init__(self, allowed: Iterable[Network] = ()) -> None:
        super().__init__()
        # httpx takes no network backend of its own: swap the pool it built for one
        # that uses ours, with the same TLS defaults.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_CheckedBackend(list(allowed)),
        )


def checked_client(allowed: Iterable[Network] = (), timeout: float = 10.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=CheckedTransport(allowed),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
