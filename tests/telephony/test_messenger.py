"""Outbound texts and calls through the real `twilio` client, pointed at a local
server that speaks Twilio's REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from store.database import session_factory, session_scope
from store.models import SmsOptOut
from telephony.messenger import MessengerError, OptedOut, TwilioMessenger
from tests.conftest import empty_tables
from tests.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

OURS = "+14155550100"


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    async with fake.running() as url:
        yield fake, url


@pytest.fixture
async def messenger(twilio: tuple[FakeTwilio, str]) -> AsyncIterator[TwilioMessenger]:
    messenger = TwilioMessenger(ACCOUNT_SID, AUTH_TOKEN, OURS, api_base=twilio[1])
    yield messenger
    await messenger.close()


async def test_send_sms_posts_to_twilio(
    twilio: tuple[FakeTwilio, str], messenger: TwilioMessenger
) -> None:
    sent = await messenger.send_sms(
        "+14155550123", "Reminder: water the plants", "https://lifeos.example.com/v1/twilio/status"
    )
    assert sent.sid.startswith("SM") and sent.status == "queued"
    [request] = twilio[0].requests
    assert request.path.endswith("/Messages.json")
    assert request.form == {
        "To": "+14155550123",
        "From": OURS,
        "Body": "Reminder: water the plants",
        "StatusCallback": "https://lifeos.example.com/v1/twilio/status",
    }


async def test_place_call_with_a_spoken_message_or_a_url(
    twilio: tuple[FakeTwilio, str], messenger: TwilioMessenger
) -> None:
    spoken = await messenger.place_call("+14155550123", say="Reminder: <call> mom & dad")
    assert spoken.sid.startswith("CA")
    twiml = twilio[0].requests[0].form["Twiml"]
    # The text is escaped by the library: it cannot become TwiML of its own.
    assert "<Say>Reminder: &lt;call&gt; mom &amp; dad</Say><Hangup />" in twiml
    await messenger.place_call("+14155550123", url="https://lifeos.example.com/v1/twilio/voice")
    assert twilio[0].requests[1].form["Url"] == "https://lifeos.example.com/v1/twilio/voice"
    await messenger.hang_up(spoken.sid)
    assert twilio[0].requests[2].form == {"Status": "completed"}
    with pytest.raises(ValueError, match="either url or say"):
        await messenger.place_call("+14155550123")


async def test_refusals_become_messenger_errors(twilio: tuple[FakeTwilio, str]) -> None:
    wrong = TwilioMessenger(ACCOUNT_SID, "e" * 32, OURS, api_base=twilio[1])
    try:
        with pytest.raises(MessengerError, match="Authenticate"):
            await wrong.send_sms("+14155550123", "hi")
    finally:
        await wrong.close()
    right = TwilioMessenger(ACCOUNT_SID, AUTH_TOKEN, OURS, api_base=twilio[1])
    try:
        with pytest.raises(MessengerError, match="not valid"):
            await right.send_sms("4155550123", "hi")
    finally:
        await right.close()


async def test_no_texts_to_a_number_that_sent_stop(
    twilio: tuple[FakeTwilio, str], engine: AsyncEngine
) -> None:
    sessions = session_factory(engine)
    async with session_scope(sessions) as db:
        db.add(SmsOptOut(number="+14155550123"))
    messenger = TwilioMessenger(
        ACCOUNT_SID, AUTH_TOKEN, OURS, api_base=twilio[1], sessions=sessions
    )
    try:
        with pytest.raises(OptedOut, match="START"):
            await messenger.send_sms("+14155550123", "Reminder: water the plants")
        assert twilio[0].requests == []  # Twilio was not even asked
        sent = await messenger.send_sms("+14155550124", "Reminder: water the plants")
        assert sent.sid.startswith("SM")
    finally:
        await messenger.close()
        await empty_tables(engine)
