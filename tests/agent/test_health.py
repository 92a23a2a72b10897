"""Health and docs through the app factory."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from agent.app import create_app
from agent.services import Services
from agent.settings import Settings


async def test_healthz_checks_the_database_and_readyz_waits_for_the_models(
    client: httpx.AsyncClient,
    services: Services,
    voice_models: tuple,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "models": "loading",
        "rate_limits": "memory",  # no LIFEOS_REDIS_URL: counted in this process
        "voice_connections": "this process",  # the newest wins among this process's
    }
    assert (await client.get("/readyz")).status_code == 503  # up, not yet ready to listen
    services._voice = voice_models  # the run's models stand in for loading them again
    rules = services.assistant.parser.rules
    monkeypatch.setattr(rules, "warm_up_all", lambda: None)  # the run's parser is warm
    await services.warm_up()
    assert (await client.get("/readyz")).json() == {
        "status": "ok",
        "database": "ok",
        "models": "ready",
        "rate_limits": "memory",
        "voice_connections": "this process",
    }


async def test_healthz_reports_an_unreachable_database(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none"
    )
    services = Services.build(settings)
    try:
        app = create_app(services=services)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://lifeos.test"
        ) as client:
            response = await client.get("/healthz")
    finally:
        await services.close()
    assert response.status_code == 503
    assert "cannot reach the database" in response.json()["database"]


async def test_openapi_describes_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/healthz", "/v1/me"} <= set(spec["paths"])
    assert (await client.get("/docs")).status_code == 200
