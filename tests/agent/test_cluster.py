"""Several service processes share the newest-voice-connection rule through Redis,
and lose nothing but the sharing when Redis goes away. Each "process" here is an app
with its own Services and its own VoiceCluster (nothing else is shared between real
processes either); tests/agent/test_several.py runs real ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent.app import create_app
from agent.cluster import VoiceCluster
from agent.guards import RequestThrottle
from agent.services import Services, build_assistant
from eval.tcp_plug import Plug
from intents.rules import RuleParser
from store.limits import Counts
from tests.agent.test_voice import socket_url
from tests.local_server import serve

REDIS_URL = "redis://127.0.0.1:6379/14"
pytestmark = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)


def another_process(services: Services, rules: RuleParser) -> Services:
    """A second service on the same database, as another worker would build it."""
    other = Services(
        settings=services.settings,
        engine=services.engine,
        sessions=services.sessions,
        tokens=services.tokens,
        keys=services.keys,
        files=services.files,
    )
    other.assistant = build_assistant(other, rules)
    return other


async def shared(services: Services, redis_url: str) -> None:
    services.cluster = VoiceCluster(redis_url, services.voice_connections)
    services.counts = Counts(redis_url)
    services.requests = RequestThrottle(counts=services.counts)
    await services.cluster.start()

    async def subscribed() -> bool:
        return services.cluster.where == "redis"

    await until(subscribed)


async def until(condition: Callable[[], Awaitable[bool]], tries: int = 300) -> None:
    """Poll (every 50 ms) what another task or process brings about."""
    for _ in range(tries):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{condition.__name__}: still false after {tries} tries")


@pytest.fixture
async def two(
    services: Services, rules: RuleParser, voice_models: tuple
) -> AsyncIterator[tuple[str, str]]:
    other = another_process(services, rules)
    for each in (services, other):
        each._voice = voice_models
        await shared(each, REDIS_URL)
    async with serve(create_app(services=services)) as a, serve(create_app(services=other)) as b:
        yield a, b
    for each in (services, other):
        await each.cluster.stop()


async def test_newest_connection_on_another_process_closes_the_older(
    two: tuple[str, str], auth: dict
) -> None:
    a, b = two
    async with connect(socket_url(a, auth)) as first:
        assert json.loads(await first.recv())["type"] == "ready"
        async with connect(socket_url(b, auth)) as second:
            assert json.loads(await second.recv())["type"] == "ready"
            notice = json.loads(await asyncio.wait_for(first.recv(), timeout=10))
            assert notice == {
                "type": "notice",
                "message": "Voice was opened in another window; this one is closed.",
            }
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(first.recv(), timeout=10)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4000, "opened elsewhere")
            # The newer one stays open: the older one's process does not close it.
            await second.ping()


@pytest.fixture
async def redis_plug(services: Services) -> AsyncIterator[Plug]:
    """Redis reached through a plug, by the rate limits and the voice rule."""
    async with Plug("127.0.0.1", 6379).running() as plug:
        await shared(services, f"redis://127.0.0.1:{plug.port}/14")
        yield plug
        await services.cluster.stop()


async def health(client: httpx.AsyncClient) -> dict:
    response = await client.get("/healthz")
    assert response.status_code == 200  # Redis is never a reason to stop serving
    return response.json()


async def test_without_redis_the_service_works_alone_and_says_so(
    client: httpx.AsyncClient, auth: dict, redis_plug: Plug, services: Services
) -> None:
    together = {"rate_limits": "redis", "voice_connections": "redis"}
    assert (await health(client)).items() >= together.items()

    redis_plug.cut()
    assert (await client.get("/v1/tasks", headers=auth)).status_code == 200
    alone = {
        "rate_limits": "memory (redis unreachable)",
        "voice_connections": "this process (redis unreachable)",
    }

    async def degraded() -> bool:  # the subscription notices the reset on its next read
        assert (await client.get("/v1/tasks", headers=auth)).status_code == 200
        return (await health(client)).items() >= alone.items()

    await until(degraded)

    redis_plug.restore()

    async def shared_again() -> bool:  # both try Redis again after a pause
        await client.get("/v1/tasks", headers=auth)  # a limit check is what retries
        return (await health(client)).items() >= together.items()

    await until(shared_again)
