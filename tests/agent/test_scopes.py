"""A device token's scopes hold in the conversation, not only at the HTTP door: a
kitchen speaker does tasks, lists, reminders and the calendar by voice and refuses
money in words; a read-only token asks but changes nothing. Nothing refused is
written, and nothing is asked first."""

from __future__ import annotations

import httpx
from sqlmodel import func, select

from agent import scopes
from agent.dialogue.voice import VoiceResponder
from agent.services import Services
from store.models import Event, Invoice, Task, Transaction, User
from tests.agent.permissions import SPEAKER_NO_MONEY
from tests.agent.test_converse import Chat

READ_ONLY = (
    "I can only look things up from this device; use the app or your phone to change anything."
)


async def device(client: httpx.AsyncClient, auth: dict, scope: str) -> dict[str, str]:
    """A token made for a device, as its owner makes it, and its headers."""
    body = {"label": f"kitchen {scope}", "scopes": [scope]}
    made = await client.post("/v1/auth/tokens", headers=auth, json=body)
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


async def count(services: Services, model: type, user: User) -> int:
    async with services.sessions() as db:
        counted = select(func.count()).select_from(model).where(model.user_id == user.id)
        return (await db.exec(counted)).one()


async def test_a_speaker_keeps_lists_reminders_and_calendar_but_refuses_money_in_words(
    client: httpx.AsyncClient, auth: dict, services: Services, user: User
) -> None:
    speaker = Chat(client, await device(client, auth, "speaker"))
    added = await speaker.say("add milk to my shopping list")
    assert added["reply"] == "Added milk to your shopping list."
    reminded = await speaker.say("remind me to call mom tomorrow at 6pm")
    assert reminded["reply"].startswith("Okay, I'll remind you to call mom tomorrow")
    booked = await speaker.say("schedule a dentist appointment next friday at 3")
    assert booked["reply"].startswith("Added Dentist appointment")
    assert await count(services, Task, user) == 2 and await count(services, Event, user) == 1
    for money in (
        "I spent twelve fifty on lunch",
        "I earned $200 from Acme",
        "how much did I spend this month",
        "bill the kitchen remodel",
        "I spent money at Home Depot",  # refused, not asked "How much was it?"
    ):
        said = await speaker.say(money)
        assert (said["reply"], said["needs"]) == (SPEAKER_NO_MONEY, None), money
    assert await count(services, Transaction, user) == 0
    assert await count(services, Invoice, user) == 0


async def test_a_speaker_cannot_undo_money_logged_in_the_app(
    client: httpx.AsyncClient, auth: dict, services: Services, user: User
) -> None:
    spent = {"kind": "expense", "amount": "5.00", "description": "coffee"}
    assert (await client.post("/v1/transactions", headers=auth, json=spent)).status_code == 201
    speaker = Chat(client, await device(client, auth, "speaker"))
    undo = await speaker.say("undo")
    assert (undo["reply"], undo["needs"]) == (SPEAKER_NO_MONEY, None)  # not asked first
    assert await count(services, Transaction, user) == 1
    # A change of its own kind it takes back as ever.
    await speaker.say("add eggs to my shopping list")
    assert (await speaker.say("undo"))["reply"] == "Undone: eggs."
    assert await count(services, Task, user) == 0


async def test_a_read_only_token_asks_but_changes_nothing(
    client: httpx.AsyncClient, auth: dict, services: Services, user: User
) -> None:
    await Chat(client, auth).say("add milk to my shopping list")
    reader = Chat(client, await device(client, auth, "read"))
    listed = await reader.say("what's on my shopping list?")
    assert listed["reply"] == "You have 1 thing on your shopping list: milk."
    spent = await reader.say("how much did I spend this month")
    assert spent["reply"].startswith("You spent $0.00")  # the money, read
    for change in (
        "add eggs to my shopping list",
        "mark milk as done",
        "delete milk from the shopping list",
        "I spent twelve fifty on lunch",
        "schedule a dentist appointment next friday at 3",
        "undo",  # would take the milk back off the list
    ):
        said = await reader.say(change)
        assert (said["reply"], said["needs"]) == (READ_ONLY, None), change
    async with services.sessions() as db:
        tasks = (await db.exec(select(Task).where(Task.user_id == user.id))).all()
    assert [(t.title, t.status.value) for t in tasks] == [("milk", "open")]
    assert await count(services, Transaction, user) == 0
    assert await count(services, Event, user) == 0


async def test_the_speakers_voice_refuses_money_in_its_reply_and_its_rehearsal(
    services: Services, user: User
) -> None:
    """The voice socket's responder for a speaker's token (what the pipeline calls
    with each heard turn, and at each pause to work the reply out early)."""
    assert services.assistant is not None
    speaker = scopes.reach(frozenset({"speaker"}))
    voice = VoiceResponder(services.assistant, user.id, reach=speaker)
    money = "I spent twelve fifty on lunch"
    assert await voice.rehearse(money) == SPEAKER_NO_MONEY
    assert " ".join([c async for c in voice.reply(money, {})]) == SPEAKER_NO_MONEY
    said = " ".join([c async for c in voice.reply("add milk to my shopping list", {})])
    assert said == "Added milk to your shopping list."
    assert await count(services, Transaction, user) == 0
    assert await count(services, Task, user) == 1


def test_a_token_without_scopes_reaches_all_its_user_may_and_unknown_scopes_nothing() -> None:
    assert scopes.reach(None) is None
    assert scopes.reach(frozenset({"voice"})) is None
    unknown = scopes.reach(frozenset({"admin"}))
    assert unknown is not None and unknown.grants == frozenset()
