"""The per-number phone limits count where the service's other limits count: in Redis
when it is configured, so two service processes refuse a flood together, and in
memory while Redis cannot be reached."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import httpx

from agent.app import create_app
from agent.services import Services, build_telephony
from store.limits import Counts
from telephony.limits import PerKeyLimit
from telephony.routes import CALLED_TOO_OFTEN, UNKNOWN_CALLER
from tests.agent.test_tokens import REDIS_URL
from tests.telephony.conftest import signed
from tests.telephony.test_webhooks import call_form

NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens there


def fresh_number() -> str:
    """A number no earlier run has counted against in the shared Redis."""
    return f"+1415{random.randrange(10**7):07d}"


def process(services: Services) -> httpx.AsyncClient:
    """One more service process on the same database and Redis: its own counts
    (a connection of its own) and its own Twilio routes, built as at start-up."""
    services.counts = Counts(REDIS_URL)
    services.settings = services.settings.model_copy(update={"call_limit": "2/minute"})
    services.telephony = build_telephony(services)
    transport = httpx.ASGITransport(app=create_app(services=services))
    return httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000")


async def ring(client: httpx.AsyncClient, number: str) -> str:
    form = call_form(number)
    response = await client.post(
        "/v1/twilio/voice", data=form, headers=signed("/v1/twilio/voice", form)
    )
    assert response.status_code == 200
    root = ET.fromstring(response.text)  # noqa: S314 - our own reply, in a test
    return " ".join(s.text or "" for s in root.iter("Say"))


async def test_two_processes_count_one_numbers_calls_together(
    twilio_services: Services,
) -> None:
    number = fresh_number()
    async with process(twilio_services) as first, process(twilio_services) as second:
        # The limit is two a minute: one call through each process uses it up …
        assert await ring(first, number) == UNKNOWN_CALLER
        assert await ring(second, number) == UNKNOWN_CALLER
        # … so the third is refused by either, though neither saw two itself.
        assert await ring(first, number) == CALLED_TOO_OFTEN
        assert await ring(second, number) == CALLED_TOO_OFTEN


async def test_texts_calls_and_pins_keep_their_counts_apart() -> None:
    counts = Counts(REDIS_URL)
    texts, pins = PerKeyLimit("1/minute", "sms", counts), PerKeyLimit("1/minute", "pin", counts)
    key = fresh_number()
    assert await texts.hit(key) and not await texts.hit(key)
    assert await pins.allows(key) and await pins.hit(key)


async def test_with_redis_down_a_number_is_still_limited_in_memory() -> None:
    counts = Counts(NOWHERE)
    calls = PerKeyLimit("2/minute", "call", counts)
    number = fresh_number()
    assert [await calls.hit(number) for _ in range(3)] == [True, True, False]
    assert not await calls.allows(number)
    assert counts.where == "memory (redis unreachable)"
