"""An app on the shared test database, and a user with a token."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from agent.app import create_app
from agent.auth import TokenService
from agent.keys import credential_keys
from agent.services import Services, build_assistant
from agent.settings import Settings
from intents.rules import RuleParser
from skills.files import LocalFileStore
from store.database import session_factory, session_scope
from store.models import User, UserCreate
from store.repositories.users import create_user
from tests.conftest import empty_tables

SECRET = secrets.token_urlsafe(48)


@pytest.fixture
async def services(
    engine: AsyncEngine, tmp_path: Path, rules: RuleParser
) -> AsyncIterator[Services]:
    yield make_services(engine, tmp_path, rules)
    await empty_tables(engine)


def make_services(engine: AsyncEngine, data_dir: Path, rules: RuleParser) -> Services:
    """The service's parts on a test database, with a known token secret."""
    settings = Settings(data_dir=data_dir, jwt_secret=SECRET)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        tokens=TokenService(SECRET, timedelta(days=1)),
        keys=credential_keys(settings, SECRET),
        files=LocalFileStore(data_dir / "files"),
    )
    services.assistant = build_assistant(services, rules)
    return services


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lifeos.test") as client:
        yield client


@pytest.fixture
async def user(services: Services) -> User:
    async with session_scope(services.sessions) as session:
        return await create_user(
            session, UserCreate(email="ann@example.com", timezone="America/Chicago")
        )


@pytest.fixture
def auth(services: Services, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.tokens.issue(user.id)}"}


@pytest.fixture
async def intruder(services: Services) -> dict[str, str]:
    """Headers of a second, signed-in user who must never see the first one's data."""
    async with session_scope(services.sessions) as session:
        other = await create_user(session, UserCreate(email="mallory@example.com"))
    return {"Authorization": f"Bearer {services.tokens.issue(other.id)}"}
