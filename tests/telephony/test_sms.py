"""Texting the assistant through Twilio's messaging webhook, as Twilio posts it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
from sqlmodel import select

from agent.dialogue.phone import LOCKED_OUT, TOO_MANY_PINS
from agent.services import Services
from store.models import PhonePin, Task, Transaction, TwilioMessage, User
from telephony.pins import Pins
from telephony.sms import HELP, STARTED, STOPPED, UNKNOWN_NUMBER, split
from tests.telephony.conftest import Texter, client_of


async def tasks(services: Services, user: User) -> list[str]:
    async with services.sessions() as db:
        rows = (await db.exec(select(Task).where(Task.user_id == user.id))).all()
    return sorted(t.title for t in rows)


async def test_a_conversation_with_a_confirmation(
    twilio_client: httpx.AsyncClient, twilio_services: Services, ann: User
) -> None:
    ann_phone = Texter(twilio_client)
    assert await ann_phone.text("add milk to my shopping list") == [
        "Added milk to your shopping list."
    ]
    assert await tasks(twilio_services, ann) == ["milk"]
    [question] = await ann_phone.text("delete all my tasks")
    assert question.endswith("?") and await tasks(twilio_services, ann) == ["milk"]
    [done] = await ann_phone.text("yes")  # the yes, by text, confirms the text's question
    assert done.startswith("Deleted") and await tasks(twilio_services, ann) == []


async def test_a_retried_webhook_answers_the_same_and_acts_once(
    twilio_client: httpx.AsyncClient, twilio_services: Services, ann: User
) -> None:
    ann_phone = Texter(twilio_client)
    first = await ann_phone.text("add eggs to my shopping list", sid="SM" + "a" * 32)
    again = await ann_phone.text("add eggs to my shopping list", sid="SM" + "a" * 32)
    assert first == again == ["Added eggs to your shopping list."]
    async with twilio_services.sessions() as db:
        rows = (await db.exec(select(Task).where(Task.user_id == ann.id))).all()
        answered = (await db.exec(select(TwilioMessage))).all()
    assert [t.title for t in rows] == ["eggs"]
    assert [m.message_sid for m in answered] == ["SM" + "a" * 32]


async def test_stop_start_and_help(
    twilio_client: httpx.AsyncClient, twilio_services: Services, ann: User
) -> None:
    ann_phone = Texter(twilio_client)
    assert await ann_phone.text("HELP") == [HELP]
    assert await ann_phone.text("Stop") == [STOPPED]
    assert "START" in STOPPED  # told how to come back
    assert await twilio_services.telephony.sms.stopped(ann.phone)
    # After STOP nothing is texted back, and nothing is done on the number's behalf.
    assert await ann_phone.text("add bread to my shopping list") == []
    assert await tasks(twilio_services, ann) == []
    assert await ann_phone.text("START") == [STARTED]
    assert not await twilio_services.telephony.sms.stopped(ann.phone)
    assert await ann_phone.text("add bread to my shopping list") == [
        "Added bread to your shopping list."
    ]


async def test_an_unknown_number_is_refused_politely(
    twilio_client: httpx.AsyncClient, twilio_services: Services, ann: User
) -> None:
    stranger = Texter(twilio_client, number="+14155550999")
    assert await stranger.text("add milk to my shopping list") == [UNKNOWN_NUMBER]
    assert await tasks(twilio_services, ann) == []


async def test_money_by_text_waits_for_the_pin(
    twilio_client: httpx.AsyncClient, twilio_services: Services, ann: User
) -> None:
    ann_phone = Texter(twilio_client)
    [no_pin] = await ann_phone.text("I spent twelve fifty on lunch")
    assert "PIN" in no_pin and "lifeos user pin" in no_pin
    await Pins(twilio_services.sessions).set(ann.id, "4321")
    [ask] = await ann_phone.text("I spent twelve fifty on lunch")
    assert ask.startswith("For money, I need your phone PIN first.")
    assert await ann_phone.text("1234") == ["That PIN isn't right. Try again."]
    [logged] = await ann_phone.text("4321")  # the held request runs now
    assert logged.startswith("Logged $12.50")
    async with twilio_services.sessions() as db:
        spent = (await db.exec(select(Transaction).where(Transaction.user_id == ann.id))).all()
    assert [str(t.amount) for t in spent] == ["12.50"]


async def test_replies_never_carry_injected_twiml(
    twilio_client: httpx.AsyncClient, ann: User
) -> None:
    ann_phone = Texter(twilio_client)
    body = "add </Message><Redirect>https://evil.example</Redirect> to my shopping list"
    response = await ann_phone.send(body)
    root = ET.fromstring(response.text)  # noqa: S314 - our own reply, in a test
    assert [child.tag for child in root] == ["Message"]  # no <Redirect> of the user's
    assert "redirect" in (root[0].text or "").lower()  # the words stayed words


async def test_a_flood_from_one_number_is_not_answered(
    twilio_client: httpx.AsyncClient, twilio_services: Services, ann: User
) -> None:
    twilio_services.telephony.sms = type(twilio_services.telephony.sms)(
        twilio_services.sessions, twilio_services.telephony.sms.conversation, "3/minute"
    )
    ann_phone = Texter(twilio_client)
    for _ in range(3):
        assert await ann_phone.text("HELP") == [HELP]
    assert await ann_phone.text("add tea to my shopping list") == []
    assert await tasks(twilio_services, ann) == []


def test_long_replies_are_split_between_sentences() -> None:
    sentence = "You have a meeting with the accountant about the quarterly figures at nine."
    parts = split(" ".join([sentence] * 10), size=160)
    assert all(len(p) <= 160 for p in parts) and len(parts) == 5
    assert all(p.endswith("nine.") for p in parts)  # never cut inside a sentence
    long_one = "word " * 100
    assert all(len(p) <= 160 for p in split(long_one, size=160))
    assert " ".join(split(long_one, size=160)) == long_one.strip()
    assert split("") == [] and split("Short.") == ["Short."]


async def test_the_phone_pin_is_set_through_the_api_and_stored_hashed(
    twilio_client: httpx.AsyncClient, twilio_services: Services, ann: User
) -> None:
    headers = {"Authorization": f"Bearer {twilio_services.tokens.issue(ann.id)}"}
    for bad in ("12", "12ab", "123456789"):
        refused = await twilio_client.put("/v1/me/phone-pin", json={"pin": bad}, headers=headers)
        assert refused.status_code == 422 and "4 to 8 digits" in refused.text
    assert not await Pins(twilio_services.sessions).is_set(ann.id)
    done = await twilio_client.put("/v1/me/phone-pin", json={"pin": "2468"}, headers=headers)
    assert done.status_code == 204
    async with twilio_services.sessions() as db:
        stored = await db.get(PhonePin, ann.id)
    assert stored is not None and "2468" not in stored.pin_hash
    pins = Pins(twilio_services.sessions)
    assert await pins.verify(ann.id, "2468") and not await pins.verify(ann.id, "2469")
    unsigned = await twilio_client.put("/v1/me/phone-pin", json={"pin": "2468"})
    assert unsigned.status_code == 401


async def test_undo_by_text_asks_for_the_pin_when_it_would_take_back_money(
    twilio_client: httpx.AsyncClient, twilio_services: Services, ann: User
) -> None:
    ann_phone = Texter(twilio_client)
    await Pins(twilio_services.sessions).set(ann.id, "4321")
    # Undoing a task change needs no PIN.
    await ann_phone.text("add milk to my shopping list")
    assert await ann_phone.text("undo") == ["Undone: milk."]
    assert await tasks(twilio_services, ann) == []

    # An expense made elsewhere (the app): undoing it by text moves money back.
    headers = {"Authorization": f"Bearer {twilio_services.tokens.issue(ann.id)}"}
    body = {"amount": "40.00", "merchant": "Hardware Store"}
    made = await twilio_client.post("/v1/transactions", headers=headers, json=body)
    assert made.status_code == 201, made.text
    [ask] = await ann_phone.text("undo")
    assert ask == "For money, I need your phone PIN first. Say your PIN, or key it and press pound."
    assert await ann_phone.text("1111") == ["That PIN isn't right. Try again."]
    assert await spent(twilio_services, ann) == ["40.00"]  # nothing undone yet
    assert await ann_phone.text("4321") == ["Undone: Hardware Store."]
    assert await spent(twilio_services, ann) == []


async def spent(services: Services, user: User) -> list[str]:
    async with services.sessions() as db:
        rows = (await db.exec(select(Transaction).where(Transaction.user_id == user.id))).all()
    return [str(t.amount) for t in rows]


async def test_after_a_few_wrong_pins_money_stays_locked_even_for_the_right_one(
    twilio_services: Services, ann: User
) -> None:
    await Pins(twilio_services.sessions).set(ann.id, "4321")
    async with client_of(twilio_services, pin_limit="4/hour") as client:
        ann_phone = Texter(client)
        await ann_phone.text("I spent twelve fifty on lunch")
        assert await ann_phone.text("1111") == ["That PIN isn't right. Try again."]
        assert await ann_phone.text("2222") == ["That PIN isn't right. Try again."]
        assert await ann_phone.text("3333") == [LOCKED_OUT]
        # Asking again gives one more try within the window, not three.
        [ask] = await ann_phone.text("I spent twelve fifty on lunch")
        assert ask.startswith("For money, I need your phone PIN first.")
        assert await ann_phone.text("5555") == ["That PIN isn't right. Try again."]
        assert await ann_phone.text("4321") == [TOO_MANY_PINS]
        assert await ann_phone.text("I spent twelve fifty on lunch") == [TOO_MANY_PINS]
        # Tasks are not money: they still work.
        assert await ann_phone.text("add tea to my shopping list") == [
            "Added tea to your shopping list."
        ]
    assert await spent(twilio_services, ann) == []
