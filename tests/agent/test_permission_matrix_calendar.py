"""The permission matrix for the calendar: every role × event action × an event of one's
own, on one's household calendar, or on another household's, through the calendar
service, REST, GraphQL and the conversation on each of its channels. The expected table is
the issue's, written here; the people, households and the walk are in
tests/agent/permissions.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from skills.calendar.schemas import EventUpdate
from skills.calendar.service import CalendarService
from skills.context import SkillContext
from store.database import session_scope
from store.models import Event
from tests.agent.permissions import (
    CHANNELS,
    Conversation,
    World,
    by_graphql,
    by_service,
    by_status,
    by_words,
    table,
    talking,
    walk,
)

ACTIONS = ["read", "move", "cancel", "unshare"]
SHARED: dict[str, set[str]] = {
    "owner": set(ACTIONS),
    "admin": set(ACTIONS),
    "member": {"read", "move", "cancel"},  # taking another's event off is for admins
    "viewer": {"read"},
    "bookkeeper": set(),  # money, not the family's calendar
}
expected = table(SHARED)


TITLES = [
    "dentist",
    "piano",
    "haircut",
    "plumber",
    "yoga",
    "soccer",
    "bakery",
    "tutor",
    "ballet",
    "chess",
    "vet",
    "karate",
]
Handle = tuple[uuid.UUID, str]  # an event and its title


class Calendars:
    def __init__(self, world: World) -> None:
        self.world = world
        self.titles = iter(TITLES)
        self.start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)

    async def make(self, scope: str) -> Handle:
        owner, household = self.world.owner_of(scope)
        title = next(self.titles)
        async with session_scope(self.world.services.sessions) as s:
            made = Event(
                user_id=owner,
                household_id=household,
                title=title,
                start_at=self.start,
                end_at=self.start + timedelta(hours=1),
            )
            s.add(made)
            await s.flush()
            return made.id, title

    async def state(self, handle: Handle) -> tuple | None:
        async with session_scope(self.world.services.sessions) as s:
            found = await s.get(Event, handle[0])
            return None if found is None else (found.household_id, found.start_at)


def later() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=2, hours=3)


async def through_service(world: World, action: str, handle: Handle):
    event_id = handle[0]

    async def do(ctx: SkillContext) -> str | None:
        service = CalendarService(ctx)
        if action == "read":
            await service.get(event_id)
            return "ok"
        if action == "move":
            await service.update_event(event_id, EventUpdate(start_at=later()))
        elif action == "cancel":
            await service.delete_event(event_id)
        else:
            await service.update_event(event_id, EventUpdate(household_id=None))
        return None

    return await by_service(world, do)


async def through_rest(client: httpx.AsyncClient, world: World, action: str, handle: Handle):
    bob, url = world.token(), f"/v1/events/{handle[0]}"
    if action == "read":
        response = await client.get(url, headers=bob)
    elif action == "move":
        response = await client.patch(url, headers=bob, json={"start_at": later().isoformat()})
    elif action == "cancel":
        response = await client.delete(url, headers=bob)
    else:
        response = await client.patch(url, headers=bob, json={"household_id": None})
    return by_status(response, read=action == "read")


OPERATIONS = {
    "read": "query($id: UUID!) { event(id: $id) { id } }",
    "move": "mutation($id: UUID!, $at: DateTime) "
    "{ updateEvent(id: $id, input: {startAt: $at}) { id } }",
    "cancel": "mutation($id: UUID!) { deleteEvent(id: $id) }",
    "unshare": "mutation($id: UUID!) { updateEvent(id: $id, input: {householdId: null}) { id } }",
}


async def through_graphql(client: httpx.AsyncClient, world: World, action: str, handle: Handle):
    operation, given = OPERATIONS[action], {"id": str(handle[0])}
    if action == "move":
        given["at"] = later().isoformat()
    return await by_graphql(client, world, operation, read=action == "read", **given)


async def through_voice(chat: Conversation, action: str, handle: Handle):
    return by_words([await chat.say(text) for text in (f"cancel the {handle[1]}", "yes")])


async def test_service_layer(world: World) -> None:
    assert await walk(world, Calendars(world), through_service, ACTIONS, expected) == []


async def test_rest(world: World, client: httpx.AsyncClient) -> None:
    async def attempt(w: World, action: str, handle: Handle):
        return await through_rest(client, w, action, handle)

    assert await walk(world, Calendars(world), attempt, ACTIONS, expected) == []


async def test_graphql(world: World, client: httpx.AsyncClient) -> None:
    async def attempt(w: World, action: str, handle: Handle):
        return await through_graphql(client, w, action, handle)

    assert await walk(world, Calendars(world), attempt, ACTIONS, expected) == []


@pytest.mark.parametrize("channel", CHANNELS)
async def test_conversation(world: World, client: httpx.AsyncClient, channel: str) -> None:
    async with talking(world, client, channel) as conversation:

        async def attempt(w: World, action: str, handle: Handle):
            return await through_voice(conversation(), action, handle)

        assert await walk(world, Calendars(world), attempt, ["cancel"], expected) == []
