"""PostgreSQL going away under the service and coming back: requests meanwhile get a
clean 503 with Retry-After and change nothing; the first request after it returns is
served, by the same app (no restart), and nothing answered 2xx is lost."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from eval.tcp_plug import Plug
from store import migrate
from store.database import create_engine
from tests.conftest import DatabaseFactory


@pytest.fixture
async def plug() -> AsyncIterator[Plug]:
    async with Plug("127.0.0.1", 5432).running() as plug:
        yield plug


@pytest.fixture
async def engine(databases: DatabaseFactory, plug: Plug) -> AsyncIterator[AsyncEngine]:
    """This module's database is reached through the plug (the shared fixture's is not)."""
    direct = make_url(await databases.new("postgresql"))
    engine = create_engine(direct.set(port=plug.port).render_as_string(hide_password=False))
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


async def add(client: httpx.AsyncClient, auth: dict[str, str], title: str) -> httpx.Response:
    return await client.post("/v1/tasks", json={"title": title}, headers=auth)


async def test_database_outage_is_a_clean_503_and_the_service_recovers(
    client: httpx.AsyncClient, auth: dict[str, str], plug: Plug
) -> None:
    assert (await add(client, auth, "before")).status_code == 201

    plug.cut()
    during = [await add(client, auth, "during"), await client.get("/v1/tasks", headers=auth)]
    for response in during:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "2"
        assert "database is unavailable" in response.json()["detail"]
        assert "Traceback" not in response.text
    health = await client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "unavailable"

    plug.restore()
    # The pool drops its dead connections and opens new ones on the next request.
    assert (await add(client, auth, "after")).status_code == 201
    titles = sorted(t["title"] for t in (await client.get("/v1/tasks", headers=auth)).json())
    assert titles == ["after", "before"]  # nothing answered 503 was stored
    assert (await client.get("/healthz")).json()["database"] == "ok"
