"""Live changes over the GraphQL socket (graphql-transport-ws): a change made by one
household member through REST reaches another's open subscription; what a person may
not see never does; nothing is told of a change that was rolled back; and through
Redis a change made in one process reaches a watcher in another."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlmodel import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from agent.app import create_app
from agent.live.bus import ChangeNotice, LocalBroadcaster, RedisBroadcaster
from agent.services import Services
from skills.context import SkillContext
from skills.tasks.schemas import TaskCreate
from skills.tasks.service import TaskService
from store.database import session_scope
from store.models import Task, User
from tests.agent.graphql_client import family_member
from tests.agent.test_households import sign_up
from tests.agent.test_scopes import device
from tests.local_server import serve

CHANGES = "subscription { changes { kind id action householdId mine } }"


@pytest.fixture
async def base_url(services: Services) -> AsyncIterator[str]:
    async with serve(create_app(services=services)) as url:
        yield url


async def until(condition, tries: int = 500) -> None:
    """Wait for something the server does on its own time (no timed assertion)."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


@asynccontextmanager
async def watching(
    base_url: str, services: Services, auth: dict
) -> AsyncIterator[ClientConnection]:
    """A signed-in socket with the changes subscription running."""
    token = auth["Authorization"].split()[1]
    url = base_url.replace("http", "ws", 1) + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        before = services.changes.subscribers  # type: ignore[attr-defined]
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": CHANGES}})
        )
        await until(lambda: services.changes.subscribers > before)  # type: ignore[attr-defined]
        yield socket


async def next_change(socket: ClientConnection) -> dict:
    message = json.loads(await socket.recv())
    assert message["type"] == "next", message
    return message["payload"]["data"]["changes"]


async def test_a_housemates_change_to_the_shared_list_arrives_live_and_a_strangers_does_not(
    client: httpx.AsyncClient, base_url: str, services: Services, auth: dict
) -> None:
    bob, family, shopping = await family_member(client, services, auth, "member")
    mallory = await sign_up(services, "mallory@example.com")
    async with watching(base_url, services, auth) as ann_socket:
        # A stranger's change comes first, and must never reach Ann.
        theirs = await client.post("/v1/tasks", headers=mallory, json={"title": "x", "list": "l"})
        assert theirs.status_code == 201
        added = await client.post(
            "/v1/tasks", headers=bob, json={"title": "eggs", "list": "family shopping"}
        )
        assert added.status_code == 201, added.text
        change = await next_change(ann_socket)
        assert change == {
            "kind": "tasks",
            "id": added.json()["id"],
            "action": "created",
            "householdId": None,  # an item is shared through its list
            "mine": False,
        }
        # Her own change reaches her too, marked as hers.
        await client.post(f"/v1/tasks/{added.json()['id']}/complete", headers=auth)
        change = await next_change(ann_socket)
        assert (change["kind"], change["action"], change["mine"]) == ("tasks", "updated", True)

        # Unshared, the list's items are Bob's no longer to hear of.
        async with watching(base_url, services, bob) as bob_socket:
            unshared = await client.patch(
                f"/v1/lists/{shopping}", headers=auth, json={"household_id": None}
            )
            assert unshared.status_code == 200
            change = await next_change(bob_socket)  # the list itself, as it was shared
            assert (change["kind"], change["action"]) == ("lists", "updated")
            await client.post("/v1/tasks", headers=auth, json={"title": "jam", "list": "shopping"})
            await client.post("/v1/tasks", headers=bob, json={"title": "own"})
            change = await next_change(bob_socket)
            assert (change["kind"], change["mine"]) == ("tasks", True)
    # Closed sockets let go of their subscriptions.
    await until(lambda: services.changes.subscribers == 0)  # type: ignore[attr-defined]
    assert family


async def test_a_socket_without_a_valid_token_is_refused(base_url: str, services: Services) -> None:
    url = base_url.replace("http", "ws", 1) + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {"token": "nope"}}))
        with pytest.raises(ConnectionClosed):
            await socket.recv()
    assert socket.close_code == 4403


async def test_nothing_is_told_of_a_change_rolled_back(services: Services, user) -> None:
    async def add(title: str, then_fail: bool) -> Task:
        async with session_scope(services.sessions) as session:
            task = await TaskService(SkillContext.for_user(session, user)).create(
                TaskCreate(title=title)
            )
            if then_fail:
                raise RuntimeError("the request failed after the change")
        return task

    async with services.changes.subscribe() as notices:
        with pytest.raises(RuntimeError, match="failed after the change"):
            await add("never", then_fail=True)
        kept = await add("kept", then_fail=False)
        notice = await anext(notices)  # the first notice is of the change that was kept
    assert (notice.kind, notice.id, notice.action) == ("tasks", str(kept.id), "created")
    async with session_scope(services.sessions) as session:
        assert await session.get(Task, kept.id) is not None


async def test_through_redis_a_change_in_one_process_reaches_another() -> None:
    here, there = (
        RedisBroadcaster("redis://127.0.0.1:6379/0"),
        RedisBroadcaster("redis://127.0.0.1:6379/0"),
    )
    notice = ChangeNotice("tasks", str(uuid.uuid4()), "created", "owner", "owner")
    try:
        async with there.subscribe() as notices:
            here.publish(notice)
            assert await anext(notices) == notice
    finally:
        await here.close()
        await there.close()


async def test_a_slow_watcher_keeps_the_newest_notices() -> None:
    bus = LocalBroadcaster()
    async with bus.subscribe() as notices:
        for i in range(300):
            bus.publish(ChangeNotice("tasks", str(i), "created", "o", "o"))
        first = await anext(notices)
    assert first.id == str(300 - 256)


async def ask_over(socket: ClientConnection, query: str, tag: str) -> dict:
    """One operation on a signed-in socket; its result."""
    await socket.send(json.dumps({"id": tag, "type": "subscribe", "payload": {"query": query}}))
    message, done = json.loads(await socket.recv()), json.loads(await socket.recv())
    assert (message["type"], message["id"]) == ("next", tag), message
    assert done == {"id": tag, "type": "complete"}
    return message["payload"]


async def test_a_device_tokens_changes_are_refused_over_graphql_as_over_rest(
    client: httpx.AsyncClient, base_url: str, services: Services, auth: dict, user: User
) -> None:
    """A speaker's or a read-only token may not POST a change to REST, and a GraphQL
    mutation is a change whichever way it comes. A speaker may not use GraphQL at all;
    a read token may ask, over HTTP and over the socket, and is refused each change."""
    await client.post("/v1/tasks", headers=auth, json={"title": "milk", "list": "shopping"})
    add = 'mutation { createTask(input: {title: "eggs", list: "shopping"}) { id } }'
    speaker = await device(client, auth, "speaker")
    graphql = await client.post("/graphql", headers=speaker, json={"query": "{ tasks { title } }"})
    assert graphql.status_code == 403
    assert graphql.json()["detail"].startswith("this token is for speaker only")
    read = await device(client, auth, "read")
    rest = await client.post("/v1/tasks", headers=read, json={"title": "eggs"})
    assert rest.status_code == 403
    asked = await client.post("/graphql", headers=read, json={"query": "{ tasks { title } }"})
    assert asked.json() == {"data": {"tasks": [{"title": "milk"}]}}, asked.text
    refused = (await client.post("/graphql", headers=read, json={"query": add})).json()
    [error] = refused["errors"]
    assert error["extensions"]["status"] == 403, refused
    assert error["message"] == "this token is for read only: it may not POST /graphql"

    url = base_url.replace("http", "ws", 1) + "/graphql"
    reader = (await device(client, auth, "read"))["Authorization"].split()[1]
    async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {"token": reader}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        asked = await ask_over(socket, "{ tasks { title } }", "1")
        assert asked == {"data": {"tasks": [{"title": "milk"}]}}
        for n, change in enumerate((add, "mutation { undo { undid } }"), start=2):
            refused = await ask_over(socket, change, str(n))
            [error] = refused["errors"]
            assert error["extensions"]["status"] == 403, refused
            assert error["message"] == "this token is for read only: it may not POST /graphql"
    async with services.sessions() as db:
        tasks = (await db.exec(select(Task).where(Task.user_id == user.id))).all()
    assert [t.title for t in tasks] == ["milk"]  # no eggs, and the milk not taken back


async def test_a_change_over_the_socket_is_reported_done_only_once_it_is_kept(
    base_url: str, services: Services, auth: dict, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the socket the result goes out before the operation's end: the commit comes
    first, and when it fails the caller hears an error, not the task it asked for."""
    from sqlalchemy.exc import OperationalError
    from sqlmodel.ext.asyncio.session import AsyncSession

    async def lost(self: AsyncSession) -> None:
        raise OperationalError("COMMIT", {}, Exception("the disk is full"))

    url = base_url.replace("http", "ws", 1) + "/graphql"
    token = auth["Authorization"].split()[1]
    async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        monkeypatch.setattr(AsyncSession, "commit", lost)
        add = 'mutation { createTask(input: {title: "eggs"}) { id } }'
        try:
            await socket.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": add}})
            )
            answer = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        finally:
            monkeypatch.undo()
    # The operation's error (graphql-transport-ws "error"), never a task's id.
    assert answer["type"] == "error" and answer["id"] == "1", answer
    assert "createTask" not in json.dumps(answer)
    async with services.sessions() as db:
        assert (await db.exec(select(Task).where(Task.user_id == user.id))).all() == []


async def test_a_member_removed_and_brought_back_by_undo_hears_both_and_so_does_the_remover(
    client: httpx.AsyncClient, base_url: str, services: Services, auth: dict
) -> None:
    bob, family, _ = await family_member(client, services, auth, "member")
    me = (await client.get("/v1/me", headers=bob)).json()["id"]
    async with (
        watching(base_url, services, bob) as bob_socket,
        watching(base_url, services, auth) as ann_socket,
    ):
        removed = await client.delete(f"/v1/households/{family}/members/{me}", headers=auth)
        assert removed.status_code == 204
        for socket, mine in ((bob_socket, False), (ann_socket, True)):
            change = await next_change(socket)  # his page redraws without the family's list
            assert (change["kind"], change["action"], change["mine"]) == (
                "memberships",
                "deleted",
                mine,
            )
        assert (await client.post("/v1/undo", headers=auth)).status_code == 200
        change = await next_change(bob_socket)
        assert (change["kind"], change["action"], change["householdId"]) == (
            "memberships",
            "undone",
            family,
        )
