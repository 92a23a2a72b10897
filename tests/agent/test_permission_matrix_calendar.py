"""The permission matrix for the calendar: every role × event action × an event of
one's own, on one's household calendar, or on another household's, through the
calendar service, REST and the conversation. The expected table is the issue's,
written here; the people and households are those of the lists' matrix."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from agent.services import Services
from skills.access import AccessDenied
from skills.calendar.schemas import EventUpdate
from skills.calendar.service import CalendarService
from skills.context import NotFound, SkillContext
from store.database import session_scope
from store.models import Event, User
from tests.agent.test_converse import Chat
from tests.agent.test_permission_matrix import ROLES, SCOPES, World

ACTIONS = ["read", "move", "cancel", "unshare"]
SHARED: dict[str, set[str]] = {
    "owner": set(ACTIONS),
    "admin": set(ACTIONS),
    "member": {"read", "move", "cancel"},  # taking another's event off is for admins
    "viewer": {"read"},
    "bookkeeper": set(),  # money, not the family's calendar
}


def expected(role: str, action: str, scope: str) -> str:
    if scope == "own":
        return "ok"
    if scope == "other" or "read" not in SHARED[role]:
        return "hidden"
    return "ok" if action in SHARED[role] else "denied"


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
Attempt = Callable[[World, str, uuid.UUID, str], Awaitable[str | None]]


class Calendars:
    def __init__(self, world: World) -> None:
        self.world = world
        self.titles = iter(TITLES)
        self.start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)

    async def event(self, scope: str) -> tuple[uuid.UUID, str]:
        w = self.world
        owner, household = {
            "own": (w.bob.id, w.bobs_own),
            "shared": (w.ann.id, w.family),
            "other": (w.carol.id, w.neighbours),
        }[scope]
        title = next(self.titles)
        async with session_scope(w.services.sessions) as s:
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

    async def state(self, event_id: uuid.UUID) -> tuple | None:
        async with session_scope(self.world.services.sessions) as s:
            found = await s.get(Event, event_id)
            return None if found is None else (found.household_id, found.start_at)


def later() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=2, hours=3)


async def through_service(world: World, action: str, event_id: uuid.UUID, title: str):
    try:
        async with session_scope(world.services.sessions) as s:
            bob = await s.get(User, world.bob.id)
            assert bob is not None
            service = CalendarService(SkillContext.for_user(s, bob))
            if action == "read":
                await service.get(event_id)
                return "ok"
            if action == "move":
                await service.update_event(event_id, EventUpdate(start_at=later()))
            elif action == "cancel":
                await service.delete_event(event_id)
            else:
                await service.update_event(event_id, EventUpdate(household_id=None))
    except AccessDenied:
        return "denied"
    except NotFound:
        return "hidden"
    return None


async def through_rest(client: httpx.AsyncClient, world: World, action: str, event_id, title):
    bob, url = world.token(), f"/v1/events/{event_id}"
    if action == "read":
        response = await client.get(url, headers=bob)
    elif action == "move":
        response = await client.patch(url, headers=bob, json={"start_at": later().isoformat()})
    elif action == "cancel":
        response = await client.delete(url, headers=bob)
    else:
        response = await client.patch(url, headers=bob, json={"household_id": None})
    if response.status_code in (403, 404):
        return {403: "denied", 404: "hidden"}[response.status_code]
    assert response.status_code < 300, response.text
    return "ok" if action == "read" else None


async def through_voice(client: httpx.AsyncClient, world: World, action: str, event_id, title):
    chat = Chat(client, world.token())
    replies = [(await chat.say(text))["reply"] for text in (f"cancel the {title}", "yes")]
    if any(reply.startswith(("You can only view", "As a")) for reply in replies):
        return "denied"
    return None


async def walk(world: World, attempt: Attempt, actions: list[str]) -> list[str]:
    calendars, wrong = Calendars(world), []
    for action, scope in itertools.product(actions, SCOPES):
        event_id, title = await calendars.event(scope)
        before = await calendars.state(event_id)
        outcome = await attempt(world, action, event_id, title)
        after = await calendars.state(event_id)
        if outcome is None:
            outcome = "ok" if before != after else "hidden"
        elif outcome != "ok":
            assert before == after, f"{action} on {scope} was refused but changed it"
        want = expected(world.role, action, scope)
        if outcome != want:
            wrong.append(f"{world.role} {action} {scope}: {outcome}, expected {want}")
    return wrong


@pytest.fixture(params=ROLES)
async def world(request: pytest.FixtureRequest, services: Services) -> World:
    made = World(services, request.param)
    await made.build()
    return made


async def test_service_layer(world: World) -> None:
    assert await walk(world, through_service, ACTIONS) == []


async def test_rest(world: World, client: httpx.AsyncClient) -> None:
    async def attempt(w: World, action: str, event_id: uuid.UUID, title: str):
        return await through_rest(client, w, action, event_id, title)

    assert await walk(world, attempt, ACTIONS) == []


async def test_conversation(world: World, client: httpx.AsyncClient) -> None:
    async def attempt(w: World, action: str, event_id: uuid.UUID, title: str):
        return await through_voice(client, w, action, event_id, title)

    assert await walk(world, attempt, ["cancel"]) == []
