"""The permission matrix: every role × every list action × a resource of one's own,
shared with one's household, or another household's, through the service layer,
REST and the conversation. The expected table is written here from the issue, not
derived from skills.access, so a change to the rights shows up as a failure.

One test per role and channel walks all its cases on one database (tables are
emptied between tests, not between cases), so the whole matrix runs in seconds."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlmodel import select

from agent.services import Services
from skills.access import AccessDenied
from skills.context import NotFound, SkillContext
from skills.tasks.schemas import TaskCreate, TaskQuery
from skills.tasks.service import TaskService
from store.database import session_scope
from store.models import HouseholdRole, Membership, Task, TaskList, User, UserCreate
from store.repositories.households import create_household, memberships_of
from store.repositories.users import create_user
from tests.agent.test_converse import Chat

ROLES = [r.value for r in HouseholdRole]
# "clear" empties a list of its items (by voice: "delete everything on the list");
# "delete_list" deletes the list itself, and "unshare" takes it back from the household.
ACTIONS = ["read", "add", "complete", "delete_item", "clear", "delete_list", "unshare"]
REST_ACTIONS = [a for a in ACTIONS if a != "clear"]  # REST deletes items one by one
SCOPES = ["own", "shared", "other"]
# What a role may do to a list shared with its household (the words:
# members add and complete items, viewers read only, a bookkeeper sees money but
# not the household's lists; owners and admins run the household).
SHARED: dict[str, set[str]] = {
    "owner": set(ACTIONS),
    "admin": set(ACTIONS),
    "member": {"read", "add", "complete", "delete_item", "clear"},
    "viewer": {"read"},
    "bookkeeper": set(),
}


def expected(role: str, action: str, scope: str) -> str:
    if scope == "own":
        return "ok"
    if scope == "other" or not SHARED[role] or "read" not in SHARED[role]:
        return "hidden"  # it does not exist for them
    return "ok" if action in SHARED[role] else "denied"


# Plain, unlike words: the conversation must hear them, and no two may pass for each other.
LIST_WORDS = [
    "button",
    "pillow",
    "spruce",
    "walnut",
    "harbor",
    "violet",
    "canyon",
    "pepper",
    "marble",
    "lantern",
    "orchid",
    "falcon",
    "ribbon",
    "quartz",
    "meadow",
    "copper",
    "saddle",
    "tundra",
    "velvet",
    "parrot",
    "hammock",
]
ITEM_WORDS = [
    "carrots",
    "pretzels",
    "cashews",
    "biscuits",
    "candles",
    "lemons",
    "napkins",
    "pickles",
    "raisins",
    "sponges",
    "tissues",
    "yogurt",
    "crayons",
    "batteries",
    "envelopes",
    "matches",
    "noodles",
    "oranges",
    "peanuts",
    "stamps",
    "towels",
]


class World:
    """Ann owns the Family household and Bob has ``role`` in it; Carol's Neighbours
    household is none of Bob's business. Each case gets a fresh list with one item."""

    def __init__(self, services: Services, role: str) -> None:
        self.services, self.role = services, role
        self.words = zip(LIST_WORDS, ITEM_WORDS, strict=True)

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

    async def resource(self, scope: str) -> tuple[uuid.UUID, uuid.UUID, str, str]:
        name, item = next(self.words)
        owner, household = {
            "own": (self.bob.id, self.bobs_own),  # shared with no one but him
            "shared": (self.ann.id, self.family),
            "other": (self.carol.id, self.neighbours),
        }[scope]
        async with session_scope(self.services.sessions) as s:
            made = TaskList(user_id=owner, household_id=household, name=name)
            s.add(made)
            await s.flush()
            task = Task(user_id=owner, list_id=made.id, title=item)
            s.add(task)
            await s.flush()
            return made.id, task.id, name, item

    async def state(self, list_id: uuid.UUID) -> tuple[bool, list[tuple[str, str]]]:
        """Whether the list is still there and shared, and its items with their status."""
        async with session_scope(self.services.sessions) as s:
            found = await s.get(TaskList, list_id)
            items = await s.exec(select(Task).where(Task.list_id == list_id))
            return (
                found is not None and found.household_id is not None,
                sorted((t.title, t.status.value) for t in items),
            )

    def token(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.services.tokens.issue(self.bob.id)}"}


Outcome = str  # "ok", "denied" or "hidden"
Ids = tuple[uuid.UUID, uuid.UUID, str, str]  # a list, its item, their names
Attempt = Callable[[World, str, Ids], Awaitable[Outcome | None]]


async def through_service(world: World, action: str, ids: Ids) -> Outcome | None:
    list_id, task_id, name, _item = ids
    try:
        async with session_scope(world.services.sessions) as s:
            bob = await s.get(User, world.bob.id)
            assert bob is not None
            service = TaskService(SkillContext.for_user(s, bob))
            if action == "read":
                await service.get(task_id)
                return "ok"
            if action == "add":
                await service.create(TaskCreate(title="kiwis", list=name))
            elif action == "complete":
                await service.complete(task_id)
            elif action == "delete_item":
                await service.delete(task_id)
            elif action == "clear":
                await service.delete_many(await service.search(TaskQuery(list=name)))
            elif action == "delete_list":
                await service.delete_list(list_id)
            elif action == "unshare":
                await service.share_list(list_id, None)
    except AccessDenied:
        return "denied"
    except NotFound:
        return "hidden"
    return None  # judged by what changed


async def through_rest(client: httpx.AsyncClient, world: World, action: str, ids: Ids):
    list_id, task_id, name, _item = ids
    bob = world.token()
    if action == "read":
        response = await client.get(f"/v1/tasks/{task_id}", headers=bob)
    elif action == "add":
        response = await client.post(
            "/v1/tasks", headers=bob, json={"title": "kiwis", "list": name}
        )
    elif action == "complete":
        response = await client.post(f"/v1/tasks/{task_id}/complete", headers=bob)
    elif action == "delete_item":
        response = await client.delete(f"/v1/tasks/{task_id}", headers=bob)
    elif action == "delete_list":
        response = await client.delete(f"/v1/lists/{list_id}", headers=bob)
    else:
        response = await client.patch(
            f"/v1/lists/{list_id}", headers=bob, json={"household_id": None}
        )
    if response.status_code == 403:
        return "denied"
    if response.status_code == 404:
        return "hidden"
    assert response.status_code < 300, response.text
    return "ok" if action == "read" else None


SAYINGS = {
    "read": ["what's on the {name} list?"],
    "add": ["add kiwis to the {name} list"],
    "complete": ["mark {item} as done"],
    "delete_item": ["delete {item} from the {name} list", "yes"],
    "clear": ["delete everything on the {name} list", "yes"],
}


async def through_voice(client: httpx.AsyncClient, world: World, action: str, ids: Ids):
    _list_id, _task_id, name, item = ids
    chat = Chat(client, world.token())
    replies = [(await chat.say(s.format(name=name, item=item)))["reply"] for s in SAYINGS[action]]
    if any(reply.startswith(("You can only view", "As a")) for reply in replies):
        return "denied"
    if action == "read":
        return "ok" if item in replies[0] else "hidden"
    return None


async def walk(world: World, attempt: Attempt, actions: list[str]) -> list[str]:
    """Every case of one role through one channel; the ones that went wrong. An
    attempt that returns None is judged by what it changed: nothing changed means
    the resource was, for this user, not there."""
    wrong = []
    for action, scope in itertools.product(actions, SCOPES):
        ids = await world.resource(scope)
        before = await world.state(ids[0])
        outcome = await attempt(world, action, ids)
        after = await world.state(ids[0])
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
    async def attempt(w: World, action: str, ids: Ids):
        return await through_rest(client, w, action, ids)

    assert await walk(world, attempt, REST_ACTIONS) == []


async def test_conversation(world: World, client: httpx.AsyncClient) -> None:
    async def attempt(w: World, action: str, ids: Ids):
        return await through_voice(client, w, action, ids)

    assert await walk(world, attempt, list(SAYINGS)) == []
