"""A service with Twilio configured, its public address, and callers who text and
ring it signed as Twilio signs them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from agent.services import Services
from store.database import session_scope
from store.models import User, UserCreate
from store.repositories.users import create_user
from tests.agent.conftest import services  # noqa: F401 - the same service as the API tests
from tests.telephony.texting import (  # noqa: F401 - the telephony tests import them here
    ANN_PHONE,
    PUBLIC_URL,
    SERVICE_NUMBER,
    Texter,
    client_of,
    messages,
    signed,
    with_twilio,
)


@pytest.fixture
def twilio_services(services: Services) -> Services:  # noqa: F811 - the imported fixture
    return with_twilio(services)


@pytest.fixture
async def ann(twilio_services: Services) -> User:
    async with session_scope(twilio_services.sessions) as session:
        return await create_user(
            session, UserCreate(email="ann@example.com", phone=ANN_PHONE, timezone="UTC")
        )


@pytest.fixture
async def twilio_client(twilio_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(twilio_services) as client:
        yield client
