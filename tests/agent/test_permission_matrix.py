"""The permission matrix: every role × every list action × a resource of one's own, shared
with one's household, or another household's, through the service layer, REST, GraphQL and
the conversation on each of its channels (typed, a speaker's token, SMS, the command line).
The expected table is written here from the issue, not derived from skills.access, so a
change to the rights shows up as a failure.

The people, households and the walk are in tests/agent/permissions.py."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import select

from skills.context import SkillContext
from skills.tasks.schemas import TaskCreate, TaskQuery
from skills.tasks.service import TaskService
from store.database import session_scope
from store.models import Task, TaskList
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

# "clear" empties a list of its items (by voice: "delete everything on the list");
# "delete_list" deletes the list itself, and "unshare" takes it back from the household.
ACTIONS = ["read", "add", "complete", "delete_item", "clear", "delete_list", "unshare"]
REST_ACTIONS = [a for a in ACTIONS if a != "clear"]  # REST and GraphQL delete items one by one
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
expected = table(SHARED)


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


Ids = tuple[uuid.UUID, uuid.UUID, str, str]  # a list, its item, their names


class Lists:
    """Each case gets a fresh list with one item, named by words no other case uses."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.words = zip(LIST_WORDS, ITEM_WORDS, strict=True)

    async def make(self, scope: str) -> Ids:
        name, item = next(self.words)
        owner, household = self.world.owner_of(scope)
        async with session_scope(self.world.services.sessions) as s:
            made = TaskList(user_id=owner, household_id=household, name=name)
            s.add(made)
            await s.flush()
            task = Task(user_id=owner, list_id=made.id, title=item)
            s.add(task)
            await s.flush()
            return made.id, task.id, name, item

    async def state(self, ids: Ids) -> tuple[bool, list[tuple[str, str]]]:
        """Whether the list is still there and shared, and its items with their status."""
        async with session_scope(self.world.services.sessions) as s:
            found = await s.get(TaskList, ids[0])
            items = await s.exec(select(Task).where(Task.list_id == ids[0]))
            return (
                found is not None and found.household_id is not None,
                sorted((t.title, t.status.value) for t in items),
            )


async def through_service(world: World, action: str, ids: Ids) -> str | None:
    list_id, task_id, name, _item = ids

    async def do(ctx: SkillContext) -> str | None:
        service = TaskService(ctx)
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
        return None  # judged by what changed

    return await by_service(world, do)


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
    return by_status(response, read=action == "read")


# Each REST action as a GraphQL operation on ($list, $task, $name).
OPERATIONS = {
    "read": "query($task: UUID!) { task(id: $task) { id } }",
    "add": 'mutation($name: String!) { createTask(input: {title: "kiwis", list: $name}) { id } }',
    "complete": "mutation($task: UUID!) { completeTask(id: $task) { id } }",
    "delete_item": "mutation($task: UUID!) { deleteTask(id: $task) }",
    "delete_list": "mutation($list: UUID!) { deleteList(id: $list) }",
    "unshare": "mutation($list: UUID!) { shareList(id: $list, householdId: null) { id } }",
}


async def through_graphql(client: httpx.AsyncClient, world: World, action: str, ids: Ids):
    list_id, task_id, name, _item = ids
    operation = OPERATIONS[action]
    given = {"list": str(list_id), "task": str(task_id), "name": name}
    used = {k: v for k, v in given.items() if f"${k}" in operation}
    return await by_graphql(client, world, operation, read=action == "read", **used)


SAYINGS = {
    "read": ["what's on the {name} list?"],
    "add": ["add kiwis to the {name} list"],
    "complete": ["mark {item} as done"],
    "delete_item": ["delete {item} from the {name} list", "yes"],
    "clear": ["delete everything on the {name} list", "yes"],
}


async def through_voice(chat: Conversation, action: str, ids: Ids):
    _list_id, _task_id, name, item = ids
    replies = [await chat.say(s.format(name=name, item=item)) for s in SAYINGS[action]]
    if by_words(replies) is None and action == "read":
        return "ok" if item in replies[0] else "hidden"
    return by_words(replies)


async def test_service_layer(world: World) -> None:
    assert await walk(world, Lists(world), through_service, ACTIONS, expected) == []


async def test_rest(world: World, client: httpx.AsyncClient) -> None:
    async def attempt(w: World, action: str, ids: Ids):
        return await through_rest(client, w, action, ids)

    assert await walk(world, Lists(world), attempt, REST_ACTIONS, expected) == []


async def test_graphql(world: World, client: httpx.AsyncClient) -> None:
    async def attempt(w: World, action: str, ids: Ids):
        return await through_graphql(client, w, action, ids)

    assert list(OPERATIONS) == REST_ACTIONS
    assert await walk(world, Lists(world), attempt, REST_ACTIONS, expected) == []


@pytest.mark.parametrize("channel", CHANNELS)
async def test_conversation(world: World, client: httpx.AsyncClient, channel: str) -> None:
    """The same rights by every channel: a speaker keeps the lists as its user may."""
    async with talking(world, client, channel) as conversation:

        async def attempt(w: World, action: str, ids: Ids):
            return await through_voice(conversation(), action, ids)

        assert await walk(world, Lists(world), attempt, list(SAYINGS), expected) == []
