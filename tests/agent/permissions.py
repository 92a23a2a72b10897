"""What every permission-matrix test shares: the people and households, the walk over every
action × scope for one role through one channel, and how each channel's answer reads as
"ok", "denied" (seen, not allowed), "hidden" (not there for them) or "device"
(refused for the device it came through, whoever asks: a kitchen speaker asked for
money). The channels are the service, REST, GraphQL and the conversation.

A matrix file supplies its resource (``Resources``: make one in a scope, read the state
a change would show), its table of what each role may do to a shared one, and one
attempt per channel; the ``world`` fixture (tests/agent/conftest.py) is one per role.
The conversation is had through each of its channels (``CHANNELS``, ``talking``): typed
text on /v1/converse, a speaker's token on the same path, texts through Twilio's signed
webhook, and the command line's `lifeos say`. One test per role and channel walks all
its cases on one database (tables are emptied between tests, not between cases), so a
matrix runs in seconds."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

import httpx

from agent.cli import converse_lines
from agent.dialogue.phone import ASK_PIN
from agent.services import Services
from skills.access import AccessDenied
from skills.context import NotFound, SkillContext
from store.database import session_scope
from store.models import HouseholdRole, Membership, User, UserCreate
from store.repositories.households import create_household, memberships_of
from store.repositories.users import create_user
from telephony.pins import Pins
from tests.agent.graphql_client import gql
from tests.agent.test_converse import Chat
from tests.telephony.texting import Texter, client_of, with_twilio

ROLES = [r.value for r in HouseholdRole]
SCOPES = ["own", "shared", "other"]
# How the service words a refusal of something one can see ("You can only view the
# Family list", "As a viewer of Family, you can't …").
SPOKEN_REFUSALS = ("You can only view", "As a")
# What a speaker says to money, whoever asks (the words).
SPEAKER_NO_MONEY = "I can't do money from this speaker; use the app or your phone."
# Every way into the conversation; see ``talking``.
CHANNELS = ["converse", "speaker", "sms", "cli"]
BOB_PHONE, BOB_PIN = "+14155550177", "2468"

Outcome = str  # "ok", "denied" or "hidden"


class World:
    """Ann owns the Family household and Bob has ``role`` in it; Carol's Neighbours
    household is none of Bob's business. Bob is the one who tries everything."""

    def __init__(self, services: Services, role: str) -> None:
        self.services, self.role = services, role

    async def build(self) -> None:
        async with session_scope(self.services.sessions) as s:
            self.ann = await create_user(s, UserCreate(email="ann@example.com", name="Ann"))
            self.bob = await create_user(
                s, UserCreate(email="bob@example.com", name="Bob", phone=BOB_PHONE)
            )
            self.carol = await create_user(s, UserCreate(email="carol@example.com", name="Carol"))
            self.family = (await create_household(s, "Family", self.ann.id)).id
            self.neighbours = (await create_household(s, "Neighbours", self.carol.id)).id
            s.add(Membership(household_id=self.family, user_id=self.bob.id, role=self.role))
            [personal] = [h for h, _ in await memberships_of(s, self.bob.id) if h.personal]
            self.bobs_own = personal.id

    def owner_of(self, scope: str) -> tuple[uuid.UUID, uuid.UUID]:
        """Who makes a resource of ``scope`` (as Bob sees it), and the household it is in."""
        return {
            "own": (self.bob.id, self.bobs_own),  # shared with no one but him
            "shared": (self.ann.id, self.family),
            "other": (self.carol.id, self.neighbours),
        }[scope]

    def token(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.services.tokens.issue(self.bob.id)}"}

    @asynccontextmanager
    async def as_bob(self) -> AsyncIterator[SkillContext]:
        """Bob's context for a service, in one database transaction."""
        async with session_scope(self.services.sessions) as s:
            bob = await s.get(User, self.bob.id)
            assert bob is not None
            yield SkillContext.for_user(s, bob)


H = TypeVar("H")


class Resources(Protocol[H]):
    """One kind of resource of a matrix: ``make`` a fresh one in a scope (its handle),
    and the ``state`` of it that a change shows (None once it is gone)."""

    async def make(self, scope: str) -> H: ...

    async def state(self, handle: H) -> Any: ...


Attempt = Callable[[World, str, Any], Awaitable[Outcome | None]]


def table(shared: dict[str, set[str]]) -> Callable[[str, str, str], Outcome]:
    """The expected outcome from what each role may do to a resource shared with its
    household: one's own is one's own, another household's does not exist, and a
    shared one a role may not even read does not exist for it either."""

    def expected(role: str, action: str, scope: str) -> Outcome:
        if scope == "own":
            return "ok"
        if scope == "other" or "read" not in shared[role]:
            return "hidden"
        return "ok" if action in shared[role] else "denied"

    return expected


async def walk(
    world: World,
    resources: Resources[Any],
    attempt: Attempt,
    actions: Iterable[str],
    expected: Callable[[str, str, str], Outcome],
) -> list[str]:
    """Every case of one role through one channel; the ones that went wrong. An
    attempt that returns None is judged by what it changed: nothing changed means
    the resource was, for this user, not there."""
    wrong = []
    for action, scope in itertools.product(actions, SCOPES):
        handle = await resources.make(scope)
        before = await resources.state(handle)
        outcome = await attempt(world, action, handle)
        after = await resources.state(handle)
        if outcome is None:
            outcome = "ok" if before != after else "hidden"
        elif outcome != "ok":
            assert before == after, f"{action} on {scope} was refused but changed it"
        want = expected(world.role, action, scope)
        if outcome != want:
            wrong.append(f"{world.role} {action} {scope}: {outcome}, expected {want}")
    return wrong


async def by_service(
    world: World, do: Callable[[SkillContext], Awaitable[Outcome | None]]
) -> Outcome | None:
    """``do`` as Bob through a service; its refusal as an outcome."""
    try:
        async with world.as_bob() as ctx:
            return await do(ctx)
    except AccessDenied:
        return "denied"
    except NotFound:
        return "hidden"


def by_status(response: httpx.Response, *, read: bool) -> Outcome | None:
    """A REST answer as an outcome: a read that succeeds is "ok"; a change is judged
    by what it changed."""
    if response.status_code in (403, 404):
        return {403: "denied", 404: "hidden"}[response.status_code]
    assert response.status_code < 300, response.text
    return "ok" if read else None


def by_words(replies: Iterable[str]) -> Outcome | None:
    """A conversation's replies: a spoken refusal is "denied", the speaker's refusal of
    money "device"; else judged by changes."""
    replies = list(replies)
    if SPEAKER_NO_MONEY in replies:
        return "device"
    return "denied" if any(r.startswith(SPOKEN_REFUSALS) for r in replies) else None


def by_device(role: str, action: str, scope: str) -> Outcome:
    """The expected outcome of what the device may not do, for every role and scope."""
    return "device"


class Conversation(Protocol):
    async def say(self, text: str) -> str:
        """The reply to ``text``, in this conversation."""
        ...


class Typed:
    """/v1/converse with a token: Bob's own, or the one he made for his speaker."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.chat = Chat(client, headers)

    async def say(self, text: str) -> str:
        return (await self.chat.say(text))["reply"]


class Texted:
    """Bob's phone, texting the service; money asks for his PIN, and he texts it."""

    def __init__(self, phone: Texter) -> None:
        self.phone = phone

    async def say(self, text: str) -> str:
        reply = " ".join(await self.phone.text(text))
        if reply.endswith(ASK_PIN):
            reply = " ".join(await self.phone.text(BOB_PIN))  # the held request runs now
        return reply


class AtTheTerminal:
    """`lifeos say --email bob@example.com`, one line at a time, one conversation."""

    def __init__(self, services: Services, user_id: uuid.UUID) -> None:
        self.services, self.user_id = services, user_id
        self.session_id: str | None = None

    async def say(self, text: str) -> str:
        assert self.services.assistant is not None
        said = converse_lines(self.services.assistant, self.user_id, [text], self.session_id)
        [reply] = [r async for r in said]
        self.session_id = reply.session_id
        return reply.text


@asynccontextmanager
async def talking(
    world: World, client: httpx.AsyncClient, channel: str
) -> AsyncIterator[Callable[[], Conversation]]:
    """Bob's new conversations through ``channel``. A speaker's token is made as the
    speaker's owner makes it; texts come from Bob's number (one conversation per
    number, as the service keeps them), signed as Twilio signs them."""
    if channel == "converse":
        yield lambda: Typed(client, world.token())
    elif channel == "speaker":
        body = {"label": "kitchen", "scopes": ["speaker"]}
        made = await client.post("/v1/auth/tokens", headers=world.token(), json=body)
        assert made.status_code == 201, made.text
        speaker = {"Authorization": f"Bearer {made.json()['token']}"}
        yield lambda: Typed(client, speaker)
    elif channel == "sms":
        services = with_twilio(world.services, sms_limit="1000/minute")
        await Pins(services.sessions).set(world.bob.id, BOB_PIN)
        async with client_of(services) as twilio_client:
            phone = Texter(twilio_client, BOB_PHONE)
            yield lambda: Texted(phone)
    else:
        assert channel == "cli", channel
        yield lambda: AtTheTerminal(world.services, world.bob.id)


async def by_graphql(
    client: httpx.AsyncClient, world: World, operation: str, *, read: bool, **variables: Any
) -> Outcome | None:
    """``operation`` as Bob over /graphql: a refusal carries the status REST would have
    answered, read as by_status reads it; a change is judged by what it changed."""
    answer = await gql(client, world.token(), operation, **variables)
    if answer.get("errors"):
        [error] = answer["errors"]
        status = (error.get("extensions") or {}).get("status")
        assert status in (403, 404), error
        return {403: "denied", 404: "hidden"}[status]
    return "ok" if read else None
