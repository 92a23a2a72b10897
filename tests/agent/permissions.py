"""What every permission-matrix test shares: the people and households, the walk over
every action × scope for one role through one channel, and how each channel's answer
reads as "ok", "denied" (seen, not allowed) or "hidden" (not there for them). The
channels are the service, REST, GraphQL and the conversation.

A matrix file supplies its resource (``Resources``: make one in a scope, read the state
a change would show), its table of what each role may do to a shared one, and one
attempt per channel; the ``world`` fixture (tests/agent/conftest.py) is one per role.
One test per role and channel walks all its cases on one database
(tables are emptied between tests, not between cases), so a matrix runs in seconds."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

import httpx

from agent.services import Services
from skills.access import AccessDenied
from skills.context import NotFound, SkillContext
from store.database import session_scope
from store.models import HouseholdRole, Membership, User, UserCreate
from store.repositories.households import create_household, memberships_of
from store.repositories.users import create_user
from tests.agent.graphql_client import gql
from tests.agent.test_converse import Chat

ROLES = [r.value for r in HouseholdRole]
SCOPES = ["own", "shared", "other"]
# How the service words a refusal of something one can see ("You can only view the
# Family list", "As a viewer of Family, you can't …").
SPOKEN_REFUSALS = ("You can only view", "As a")

Outcome = str  # "ok", "denied" or "hidden"


class World:
    """Ann owns the Family household and Bob has ``role`` in it; Carol's Neighbours
    household is none of Bob's business. Bob is the one who tries everything."""

    def __init__(self, services: Services, role: str) -> None:
        self.services, self.role = services, role

    async def build(self) -> None:
        async with session_scope(self.services.sessions) as s:
            self.ann = await create_user(s, UserCreate(email="ann@example.com", name="Ann"))
            self.bob = await create_user(s, UserCreate(email="bob@example.com", name="Bob"))
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

    def chat(self, client: httpx.AsyncClient) -> Chat:
        return Chat(client, self.token())

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
    """A conversation's replies: a spoken refusal is "denied"; else judged by changes."""
    return "denied" if any(r.startswith(SPOKEN_REFUSALS) for r in replies) else None


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
