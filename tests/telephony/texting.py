"""Texting the service as Twilio delivers texts: a service with Twilio configured, a
client of it behind its proxy, and a phone whose texts are signed as Twilio signs
them. Shared by the telephony tests and the permission matrices' SMS channel."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from agent.app import create_app
from agent.services import Services, build_telephony
from tests.twilio_server import ACCOUNT_SID, AUTH_TOKEN

PUBLIC_URL = "https://lifeos.example.com"
ANN_PHONE = "+14155550123"
SERVICE_NUMBER = "+14155550100"


def with_twilio(services: Services, **settings: object) -> Services:
    """``services`` with Twilio configured (and ``settings`` changed as LIFEOS_*
    variables would), its telephony built for them."""
    twilio = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": SecretStr(AUTH_TOKEN),
        "twilio_number": SERVICE_NUMBER,
        "public_url": PUBLIC_URL,
    }
    services.settings = services.settings.model_copy(update=twilio | settings)
    services.telephony = build_telephony(services)
    return services


@asynccontextmanager
async def client_of(service: Services, **settings: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service, with ``settings`` changed as LIFEOS_* variables would."""
    if settings:
        service.settings = service.settings.model_copy(update=settings)
        service.telephony = build_telephony(service)
    app = create_app(services=service)
    # The service sits behind a proxy: it is reached here on another address than the
    # public one Twilio signs for.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as client:
        yield client


def signed(path: str, form: dict[str, str], *, url: str | None = None) -> dict[str, str]:
    """The X-Twilio-Signature Twilio sends with ``form`` posted to ``url``."""
    address = url or PUBLIC_URL + path
    return {"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(address, form)}


class Texter:
    """A phone (Ann's unless told), texting the service through Twilio's webhook."""

    def __init__(self, client: httpx.AsyncClient, number: str = ANN_PHONE) -> None:
        self.client = client
        self.number = number
        self.count = 0

    async def send(self, body: str, sid: str | None = None) -> httpx.Response:
        self.count += 1
        form = {
            "MessageSid": sid or f"SM{self.count:032d}",
            "AccountSid": ACCOUNT_SID,
            "From": self.number,
            "To": SERVICE_NUMBER,
            "Body": body,
        }
        return await self.client.post(
            "/v1/twilio/sms", data=form, headers=signed("/v1/twilio/sms", form)
        )

    async def text(self, body: str, sid: str | None = None) -> list[str]:
        response = await self.send(body, sid)
        assert response.status_code == 200, response.text
        return messages(response.text)


def messages(twiml: str) -> list[str]:
    root = ET.fromstring(twiml)  # noqa: S314 - our own reply, in a test
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]
