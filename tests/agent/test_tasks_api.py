"""/v1/tasks and /v1/lists through HTTP, as a client app would use them."""

from __future__ import annotations

import httpx


async def test_task_lifecycle_over_http(client: httpx.AsyncClient, auth: dict) -> None:
    created = await client.post(
        "/v1/tasks",
        headers=auth,
        json={
            "title": "Buy milk",
            "list": "groceries",
            "due_at": "2026-03-06T17:00:00-05:00",
            "priority": 2,
        },
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["list"] == "grocery"
    assert task["due_at"].startswith("2026-03-06T22:00:00")  # stored and returned in UTC

    listed = await client.get("/v1/tasks", headers=auth, params={"list": "grocery list"})
    assert [t["title"] for t in listed.json()] == ["Buy milk"]

    patched = await client.patch(
        f"/v1/tasks/{task['id']}", headers=auth, json={"title": "Buy oat milk"}
    )
    assert patched.json()["title"] == "Buy oat milk"

    done = await client.post(f"/v1/tasks/{task['id']}/complete", headers=auth)
    assert done.json()["status"] == "done"
    assert (await client.get("/v1/tasks", headers=auth, params={"status": "open"})).json() == []

    reopened = await client.post(f"/v1/tasks/{task['id']}/reopen", headers=auth)
    assert reopened.json()["status"] == "open"

    lists = (await client.get("/v1/lists", headers=auth)).json()
    assert [(item["name"], item["open_tasks"]) for item in lists] == [("grocery", 1)]
    match = await client.get("/v1/lists/match", headers=auth, params={"name": "Groceries"})
    assert match.json()["name"] == "grocery"

    assert (await client.delete(f"/v1/tasks/{task['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"/v1/tasks/{task['id']}", headers=auth)).status_code == 404

    undone = await client.post("/v1/undo", headers=auth)
    assert undone.json()["undid"] == "tasks.delete"
    assert (await client.get(f"/v1/tasks/{task['id']}", headers=auth)).json()[
        "title"
    ] == "Buy oat milk"


async def test_bad_task_input_names_the_problem(client: httpx.AsyncClient, auth: dict) -> None:
    cases = [
        ({"title": ""}, "title"),
        ({"title": "x", "due_at": "2026-03-06T17:00:00"}, "timezone"),  # naive time
        ({"title": "x", "due_at": "2026-02-30T10:00:00Z"}, "due_at"),  # no such day
        ({"title": "x", "priority": 7}, "priority"),
        ({"title": "x", "recurrence": "FREQ=WEEKLY"}, "needs a due date"),
        ({"title": "x", "owner": "someone else"}, "owner"),
    ]
    for body, hint in cases:
        response = await client.post("/v1/tasks", headers=auth, json=body)
        assert response.status_code == 422, body
        assert hint in response.text, (body, response.text)
    assert (await client.get("/v1/tasks", headers=auth)).json() == []


async def test_another_user_gets_404_on_every_path(
    client: httpx.AsyncClient, auth: dict, intruder: dict
) -> None:
    task = (
        await client.post("/v1/tasks", headers=auth, json={"title": "Mine", "list": "home"})
    ).json()
    [home] = (await client.get("/v1/lists", headers=auth)).json()
    attempts = [
        client.get(f"/v1/tasks/{task['id']}", headers=intruder),
        client.patch(f"/v1/tasks/{task['id']}", headers=intruder, json={"title": "pwned"}),
        client.delete(f"/v1/tasks/{task['id']}", headers=intruder),
        client.post(f"/v1/tasks/{task['id']}/complete", headers=intruder),
        client.post(f"/v1/tasks/{task['id']}/reopen", headers=intruder),
        client.delete(f"/v1/lists/{home['id']}", headers=intruder),
        client.get("/v1/lists/match", headers=intruder, params={"name": "home"}),
    ]
    for attempt in attempts:
        assert (await attempt).status_code == 404
    assert (await client.get("/v1/tasks", headers=intruder)).json() == []
    assert (await client.get("/v1/lists", headers=intruder)).json() == []
    assert (await client.post("/v1/undo", headers=intruder)).status_code == 422
    assert (await client.get(f"/v1/tasks/{task['id']}", headers=auth)).json()["title"] == "Mine"
