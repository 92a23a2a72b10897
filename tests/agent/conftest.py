"""An app on the shared test database, and a user with a token."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr
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
from store.repositories.signin import set_password_hash
from store.repositories.users import create_user
from tests.agent.permissions import ROLES, World
from tests.conftest import empty_tables
from tests.smtp_server import Inbox, smtp_server
from tests.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

SECRET = secrets.token_urlsafe(48)
SERVICE_NUMBER = "+14155550100"
PASSWORD = "correct horse battery"
# argon2 at its lowest cost: a hash's cost is written in it, so checking one made here
# is quick. The service's own hashes use argon2-cffi's defaults (tests that set a
# password through the API pay for that).
_CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


async def give_password(services: Services, user: User, password: str = PASSWORD) -> None:
    async with session_scope(services.sessions) as db:
        await set_password_hash(db, user.id, _CHEAP.hash(password))


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


@pytest.fixture
async def outside(services: Services) -> AsyncIterator[tuple[Inbox, FakeTwilio]]:
    """The service configured to mail through a local SMTP server and text through
    the local Twilio server."""
    twilio = FakeTwilio()
    async with smtp_server() as (inbox, port), twilio.running() as twilio_url:
        services.settings = Settings(
            data_dir=services.settings.data_dir,
            jwt_secret=services.settings.jwt_secret,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=SecretStr(AUTH_TOKEN),
            twilio_number=SERVICE_NUMBER,
            twilio_api_base=twilio_url,
        )
        yield inbox, twilio


@pytest.fixture(params=ROLES)
async def world(request: pytest.FixtureRequest, services: Services) -> World:
    """The permission matrices' people and households, Bob in each role in turn."""
    made = World(services, request.param)
    await made.build()
    return made
