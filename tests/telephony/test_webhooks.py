"""Twilio's webhooks: signatures checked against the public URL, and the TwiML that
answers a call."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest
from sqlmodel import select

from agent.app import create_app
from agent.services import Services
from agent.settings import Settings
from store.models import Task, TwilioMessage, User
from telephony.routes import CALLED_TOO_OFTEN, UNKNOWN_CALLER
from tests.telephony.conftest import ANN_PHONE, PUBLIC_URL, SERVICE_NUMBER, client_of, signed
from tests.twilio_server import ACCOUNT_SID

SMS = "/v1/twilio/sms"
FORM = {
    "MessageSid": "SM" + "1" * 32,
    "AccountSid": ACCOUNT_SID,
    "From": ANN_PHONE,
    "To": SERVICE_NUMBER,
    "Body": "add milk to my shopping list",
}


def tampered() -> dict[str, str]:
    return {**FORM, "Body": "delete all my tasks"}


# (case, path posted with its query, the form posted, the headers sent, status)
MATRIX = [
    ("valid", SMS, FORM, signed(SMS, FORM), 200),
    ("tampered parameter", SMS, tampered(), signed(SMS, FORM), 403),
    ("added parameter", SMS, {**FORM, "NumMedia": "1"}, signed(SMS, FORM), 403),
    ("Host header's URL", SMS, FORM, signed(SMS, FORM, url="http://10.0.0.5:8000" + SMS), 403),
    ("another path", SMS, FORM, signed("/v1/twilio/voice", FORM), 403),
    (
        "http, not https",
        SMS,
        FORM,
        signed(SMS, FORM, url=PUBLIC_URL.replace("https", "http") + SMS),
        403,
    ),
    ("default port written", SMS, FORM, signed(SMS, FORM, url=f"{PUBLIC_URL}:443{SMS}"), 200),
    ("another port", SMS, FORM, signed(SMS, FORM, url=f"{PUBLIC_URL}:8443{SMS}"), 403),
    (
        "query, as encoded",
        SMS + "?lang=en&note=a%20b",
        FORM,
        signed(SMS, FORM, url=f"{PUBLIC_URL}{SMS}?lang=en&note=a%20b"),
        200,
    ),
    (
        "query, decoded",
        SMS + "?lang=en&note=a%20b",
        FORM,
        signed(SMS, FORM, url=f"{PUBLIC_URL}{SMS}?lang=en&note=a b"),
        403,
    ),
    ("query dropped", SMS + "?lang=en", FORM, signed(SMS, FORM), 403),
    ("missing header", SMS, FORM, {}, 403),
    ("empty header", SMS, FORM, {"X-Twilio-Signature": ""}, 403),
    ("another token", SMS, FORM, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, 403),
]


@pytest.mark.parametrize(
    ("path", "form", "headers", "expected"),
    [case[1:] for case in MATRIX],
    ids=[case[0] for case in MATRIX],
)
async def test_signature_matrix(
    twilio_client: httpx.AsyncClient,
    twilio_services: Services,
    ann: User,
    path: str,
    form: dict[str, str],
    headers: dict[str, str],
    expected: int,
) -> None:
    response = await twilio_client.post(path, data=form, headers=headers)
    assert response.status_code == expected, response.text
    async with twilio_services.sessions() as db:
        titles = [t.title for t in (await db.exec(select(Task))).all()]
        answered = (await db.exec(select(TwilioMessage))).all()
    if expected == 200:
        assert titles == ["milk"] and len(answered) == 1
    else:  # refused: nothing done, nothing recorded
        assert titles == [] and answered == []
        assert "Twilio" in response.json()["detail"]


async def test_without_twilio_settings_the_routes_answer_503(
    services: Services,
) -> None:
    app = create_app(services=services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://x"
    ) as client:
        response = await client.post(SMS, data=FORM, headers=signed(SMS, FORM))
    assert response.status_code == 503


def call_form(number: str) -> dict[str, str]:
    return {
        "CallSid": "CA" + "2" * 32,
        "AccountSid": ACCOUNT_SID,
        "From": number,
        "To": SERVICE_NUMBER,
        "CallStatus": "ringing",
    }


async def test_a_known_caller_is_connected_to_the_stream(
    twilio_client: httpx.AsyncClient, ann: User
) -> None:
    form = call_form(ANN_PHONE)
    response = await twilio_client.post(
        "/v1/twilio/voice", data=form, headers=signed("/v1/twilio/voice", form)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.text)  # noqa: S314 - our own reply, in a test
    assert [child.tag for child in root] == ["Connect", "Hangup"]  # hung up after the stream
    stream = root.find("Connect/Stream")
    assert stream is not None
    # The stream's address carries no query string: what it needs goes as <Parameter>s.
    assert stream.get("url") == "wss://lifeos.example.com/v1/twilio/stream"
    parameters = {p.get("name"): p.get("value") for p in stream.iter("Parameter")}
    assert parameters["caller"] == ANN_PHONE and parameters["call_sid"] == form["CallSid"]
    assert parameters["signature"]


async def test_an_unknown_caller_is_refused_politely(
    twilio_client: httpx.AsyncClient, ann: User
) -> None:
    form = call_form("+14155550999")
    response = await twilio_client.post(
        "/v1/twilio/voice", data=form, headers=signed("/v1/twilio/voice", form)
    )
    root = ET.fromstring(response.text)  # noqa: S314 - our own reply, in a test
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root[0].text == UNKNOWN_CALLER


async def test_an_unsigned_call_is_refused(twilio_client: httpx.AsyncClient, ann: User) -> None:
    form = call_form(ANN_PHONE)
    response = await twilio_client.post("/v1/twilio/voice", data=form)
    assert response.status_code == 403


async def test_a_number_that_calls_too_often_is_refused_without_a_stream(
    twilio_services: Services, ann: User
) -> None:
    async with client_of(twilio_services, call_limit="2/minute") as client:

        async def ring(form: dict[str, str], path: str = "/v1/twilio/voice") -> list[str]:
            response = await client.post(path, data=form, headers=signed(path, form))
            assert response.status_code == 200
            root = ET.fromstring(response.text)  # noqa: S314 - our own reply, in a test
            return [child.tag for child in root] + [s.text or "" for s in root.iter("Say")]

        for _ in range(2):
            assert await ring(call_form(ANN_PHONE)) == ["Connect", "Hangup"]
        assert await ring(call_form(ANN_PHONE)) == ["Say", "Hangup", CALLED_TOO_OFTEN]
        # Another number is not held back by Ann's calls …
        other = await ring(call_form("+14155550999"))
        assert other == ["Say", "Hangup", UNKNOWN_CALLER]
        # … and a reminder call the service placed to her still connects.
        path = "/v1/twilio/voice?reminder=00000000-0000-0000-0000-000000000001"
        placed = {**call_form(SERVICE_NUMBER), "To": ANN_PHONE, "Direction": "outbound-api"}
        assert await ring(placed, path) == ["Connect", "Hangup"]


def test_the_call_limit_is_a_rate() -> None:
    with pytest.raises(ValueError, match="not a rate"):
        Settings(call_limit="lots")
    assert Settings(call_limit="3/10minutes").call_limit == "3/10minutes"
