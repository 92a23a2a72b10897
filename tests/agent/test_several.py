"""Two real `lifeos serve` processes on one PostgreSQL database and one Redis, as two
machines behind a load balancer run: both start at once on an empty database (one
migrates, one creates the owner), a rate limit is counted across both, the newest
voice connection on one closes the older on the other, and a reminder that comes due
is handled by one of them, once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.agent.service_process import Service
from tests.agent.test_cli import environment, lifeos
from tests.conftest import DatabaseFactory

REDIS_URL = "redis://127.0.0.1:6379/13"
TOKEN_LIMIT = 40  # requests a minute per token, counted across both processes


def voice_url(service: Service, auth: dict[str, str]) -> str:
    token = auth["Authorization"].split()[1]
    return service.url.replace("http://", "ws://") + f"/v1/voice?token={token}"


async def test_two_processes_share_limits_voice_and_reminders(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    env = environment(tmp_path, await databases.new("postgresql"))
    env.update(
        LIFEOS_REDIS_URL=REDIS_URL,
        LIFEOS_TOKEN_LIMIT=f"{TOKEN_LIMIT}/minute",
        LIFEOS_ADDRESS_LIMIT="100000/minute",
        LIFEOS_SCHEDULER_INTERVAL_SECONDS="0.5",
    )
    a, b = Service(env, tmp_path / "a.log"), Service(env, tmp_path / "b.log")
    try:
        await asyncio.gather(a.start(), b.start())
        for service in (a, b):
            health = (await service.answering()).json()
            assert (health["rate_limits"], health["voice_connections"]) == ("redis", "redis")
        auth = await a.token()
        await asyncio.gather(a.answering("/readyz"), b.answering("/readyz"))  # models loaded
        await newest_voice_connection_wins(a, b, auth)
        async with (
            httpx.AsyncClient(base_url=a.url) as on_a,
            httpx.AsyncClient(base_url=b.url) as on_b,
        ):
            await a_reminder_is_handled_once(on_a, on_b, auth)
            fresh = await a.token()  # a token of its own: nothing counted against it yet
            assert fresh != auth
            await limits_are_shared(on_a, on_b, fresh)
    finally:
        await asyncio.gather(a.kill(), b.kill())


async def limits_are_shared(on_a: httpx.AsyncClient, on_b: httpx.AsyncClient, auth: dict) -> None:
    answers = [
        (await (on_a if n % 2 else on_b).get("/v1/tasks", headers=auth)).status_code
        for n in range(TOKEN_LIMIT + 1)
    ]
    # Alone, each process would have let all of its (half of the) requests through.
    assert answers[:TOKEN_LIMIT] == [200] * TOKEN_LIMIT and answers[TOKEN_LIMIT] == 429


async def a_reminder_is_handled_once(
    on_a: httpx.AsyncClient, on_b: httpx.AsyncClient, auth: dict
) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    made = await on_a.post(
        "/v1/tasks", headers=auth, json={"title": "water the plants", "remind_at": soon}
    )
    assert made.status_code == 201, made.text
    for _ in range(30):
        await asyncio.sleep(1)
        listed = await on_b.get("/v1/reminders", headers=auth)
        if listed.json() and listed.json()[0]["attempts"]:
            break
    await asyncio.sleep(2)  # both schedulers run several more times meanwhile
    [reminder] = (await on_b.get("/v1/reminders", headers=auth)).json()
    # Nobody has a page, phone or speaker open: each channel was tried once, by one
    # process, and the reminder settled once as unreached.
    channels = [attempt["channel"] for attempt in reminder["attempts"]]
    assert len(channels) == len(set(channels)) and reminder["status"] == "unreached"
    assert [attempt["result"] for attempt in reminder["attempts"]].count("unreached") == 1


async def newest_voice_connection_wins(a: Service, b: Service, auth: dict) -> None:
    async with connect(voice_url(a, auth)) as first:
        assert json.loads(await first.recv())["type"] == "ready"
        async with connect(voice_url(b, auth)) as second:
            assert json.loads(await second.recv())["type"] == "ready"
            notice = json.loads(await asyncio.wait_for(first.recv(), timeout=30))
            assert notice["type"] == "notice"
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(first.recv(), timeout=30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
            await second.ping()  # the newer one stays open


async def test_several_workers_need_postgresql_and_redis(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    on_sqlite = await lifeos(environment(tmp_path), "serve", "--workers", "2")
    assert on_sqlite.code == 2 and "--workers needs PostgreSQL" in on_sqlite.err
    no_redis = environment(tmp_path, await databases.new("postgresql"))
    alone = await lifeos(no_redis, "serve", "--workers", "2")
    assert alone.code == 2 and "--workers needs Redis (LIFEOS_REDIS_URL" in alone.err
