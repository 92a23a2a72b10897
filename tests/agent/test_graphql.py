"""/graphql through the real app: the same services, rules, refusals and undo as REST;
limits on what one query may ask; lists with their items in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from agent.app import create_app
from agent.graphql.limits import MAX_COST
from agent.services import Services
from agent.settings import Settings
from tests.agent.graphql_client import family_member, gql

LISTS = "{ lists { name household items { title list } } }"


async def test_tasks_lists_events_and_money_read_and_change_as_over_rest(
    client: httpx.AsyncClient, auth: dict
) -> None:
    made = await gql(
        client,
        auth,
        "mutation($t: TaskInput!) { createTask(input: $t) { id title list status } }",
        t={"title": "milk", "list": "shopping"},
    )
    task = made["data"]["createTask"]
    assert (task["title"], task["list"], task["status"]) == ("milk", "shopping", "OPEN")
    rest = (await client.get("/v1/tasks", headers=auth)).json()
    assert [(t["id"], t["title"]) for t in rest] == [(task["id"], "milk")]
    assert (await gql(client, auth, LISTS))["data"]["lists"] == [
        {"name": "shopping", "household": None, "items": [{"title": "milk", "list": "shopping"}]}
    ]

    for title, start in (("standup", "09:00"), ("dentist", "09:15")):
        await gql(
            client,
            auth,
            "mutation($e: EventInput!) { createEvent(input: $e) { id } }",
            e={"title": title, "startAt": f"2030-03-04T{start}:00-06:00", "durationMinutes": 30},
        )
    window = {"start": "2030-03-04T00:00:00Z", "end": "2030-03-05T00:00:00Z"}
    found = await gql(
        client,
        auth,
        """query($start: DateTime!, $end: DateTime!) {
             events(start: $start, end: $end) { title startAt }
             conflicts(start: $start, end: $end) { overlapMinutes first { title } }
           }""",
        **window,
    )
    assert [e["title"] for e in found["data"]["events"]] == ["standup", "dentist"]
    assert found["data"]["conflicts"] == [{"overlapMinutes": 15, "first": {"title": "standup"}}]

    spent = await gql(
        client,
        auth,
        "mutation($x: TransactionInput!) { logTransaction(input: $x) { amount category } }",
        x={"amount": "12.50", "category": "groceries", "occurredOn": "2030-03-04"},
    )
    assert spent["data"]["logTransaction"] == {"amount": "12.50", "category": "Groceries"}
    summary = await gql(
        client,
        auth,
        '{ summary(start: "2030-03-01", end: "2030-04-01") { total rows { key total } } }',
    )
    assert summary["data"]["summary"]["rows"] == [{"key": "Groceries", "total": "12.50"}]

    # Undo is the same undo: the last change (the expense) is taken back.
    undone = await gql(client, auth, "mutation { undo { undid } }")
    assert undone["data"]["undo"] == {"undid": "finance.expense"}
    assert (await client.get("/v1/transactions", headers=auth)).json() == []


async def test_refusals_are_clear_and_leave_nothing_half_written(
    client: httpx.AsyncClient, services: Services, auth: dict
) -> None:
    unsigned = await client.post("/graphql", json={"query": "{ lists { name } }"})
    assert (unsigned.status_code, unsigned.json()) == (401, {"detail": "missing bearer token"})

    empty = await gql(client, auth, 'mutation { createTask(input: {title: ""}) { id } }')
    [error] = empty["errors"]
    assert error["message"] == "title: String should have at least 1 character"
    assert error["extensions"]["status"] == 422

    # A viewer of the family sees its list but may not change it; the whole
    # operation is refused, including the part that would have been allowed.
    bob, _, _ = await family_member(client, services, auth, "viewer")
    refused = await gql(
        client,
        bob,
        """mutation {
             mine: createTask(input: {title: "socks"}) { id }
             theirs: createTask(input: {title: "jam", list: "family shopping"}) { id }
           }""",
    )
    [error] = refused["errors"]
    assert error["message"] == "you can only view the Family shopping list"
    assert (error["path"], error["extensions"]["status"]) == (["theirs"], 403)
    assert (await client.get("/v1/tasks", headers=bob)).json()[0]["title"] == "milk"
    assert len((await client.get("/v1/tasks", headers=bob)).json()) == 1


async def test_too_deep_or_too_costly_queries_are_refused_before_running(
    client: httpx.AsyncClient, auth: dict
) -> None:
    # Refused for its depth before anything else is looked at (nesting in a
    # document is free to write and costly to walk).
    deep = "{ lists { items { title { a { b { c { d } } } } } } }"
    refused = (await client.post("/graphql", headers=auth, json={"query": deep})).json()
    assert "'anonymous' exceeds maximum operation depth of 4" in [
        e["message"] for e in refused["errors"]
    ]

    costly = (
        "{ " + " ".join(f"l{i}: lists {{ items {{ id title list }} }}" for i in range(14)) + " }"
    )
    refused = (await client.post("/graphql", headers=auth, json={"query": costly})).json()
    [error] = refused["errors"]
    assert error["message"].startswith("this query would cost ")
    assert f"over the limit of {MAX_COST}" in error["message"]
    assert "data" not in refused or refused["data"] is None


@contextmanager
def counting_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn, _cursor, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_lists_with_items_and_events_with_attendees_take_the_same_queries_for_any_number(
    client: httpx.AsyncClient, services: Services, auth: dict
) -> None:
    async def add(first: int, last: int) -> None:
        for i in range(first, last):
            await client.post("/v1/tasks", headers=auth, json={"title": f"a{i}", "list": f"l{i}"})
            await client.post(
                "/v1/events",
                headers=auth,
                json={
                    "title": f"e{i}",
                    "start_at": f"2030-05-0{i + 1}T10:00:00Z",
                    "attendees": [f"p{i}@example.com", "ann@example.com"],
                },
            )

    query = (
        '{ lists { name items { title } } events(start: "2030-05-01T00:00:00Z",'
        ' end: "2030-05-10T00:00:00Z") { title eventId } }'
    )
    counts = []
    for more in (2, 5):
        await add(2 if counts else 0, more)
        with counting_statements(services.engine) as seen:
            answer = await gql(client, auth, query)
        assert "errors" not in answer, answer
        assert len(answer["data"]["lists"]) == more and len(answer["data"]["events"]) == more
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


async def test_graphiql_only_in_development(services: Services, tmp_path) -> None:
    async def ide(development: bool) -> httpx.Response:
        services.settings = Settings(data_dir=tmp_path, development=development)
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/graphql", headers={"Accept": "text/html"})

    assert (await ide(False)).status_code == 404
    page = await ide(True)
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert "https://unpkg.com" in page.headers["content-security-policy"]


async def test_a_change_touches_only_the_fields_given(
    client: httpx.AsyncClient, auth: dict
) -> None:
    made = await client.post(
        "/v1/events",
        headers=auth,
        json={"title": "dentist", "start_at": "2030-03-04T09:00:00Z", "location": "Main St"},
    )
    event = made.json()
    moved = await gql(
        client,
        auth,
        "mutation($id: UUID!, $to: EventPatch!) "
        "{ later: updateEvent(id: $id, input: $to) { title } }",
        id=event["id"],
        to={"startAt": "2030-03-04T11:00:00Z"},
    )
    assert moved["data"] == {"later": {"title": "dentist"}}, moved
    now = (await client.get(f"/v1/events/{event['id']}", headers=auth)).json()
    assert (now["start_at"], now["end_at"], now["location"]) == (
        "2030-03-04T11:00:00Z",
        "2030-03-04T12:00:00Z",
        "Main St",
    )
    cleared = await gql(
        client,
        auth,
        "mutation($id: UUID!) { updateEvent(id: $id, input: {location: null}) { location title } }",
        id=event["id"],
    )
    assert cleared["data"]["updateEvent"] == {"location": None, "title": "dentist"}

    spent = await client.post(
        "/v1/transactions",
        headers=auth,
        json={"amount": "8.00", "merchant": "Cafe", "category": "Coffee"},
    )
    changed = await gql(
        client,
        auth,
        'mutation($id: UUID!) { updateTransaction(id: $id, input: {amount: "9.50"}) '
        "{ amount merchant category } }",
        id=spent.json()["id"],
    )
    assert changed["data"]["updateTransaction"] == {
        "amount": "9.50",
        "merchant": "Cafe",
        "category": "Coffee",
    }
