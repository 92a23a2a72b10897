"""Projects renamed, shared, unshared and deleted, through REST and GraphQL, as a
household sees it: the same rules as a shared list (its maker, or an owner or admin of
the household, manages it), nothing with money on it is deleted, and undo takes each
change back."""

from __future__ import annotations

import httpx

from agent.services import Services
from tests.agent.graphql_client import family_member, gql


async def names(client: httpx.AsyncClient, who: dict) -> list[str]:
    listed = await client.get("/v1/projects", headers=who)
    assert listed.status_code == 200, listed.text
    return sorted(p["name"] for p in listed.json())


async def start(client: httpx.AsyncClient, who: dict, name: str, **more: str) -> str:
    made = await client.post("/v1/projects", headers=who, json={"name": name, **more})
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def undo(client: httpx.AsyncClient, who: dict) -> str:
    undone = await client.post("/v1/undo", headers=who)
    assert undone.status_code == 200, undone.text
    return undone.json()["undid"]


async def test_share_rename_unshare_a_project_and_undo_over_rest(
    client: httpx.AsyncClient, services: Services, auth: dict
) -> None:
    bob, family, _ = await family_member(client, services, auth, "member")
    attic = await start(client, auth, "attic")
    await start(client, auth, "porch")
    url = f"/v1/projects/{attic}"

    shared = await client.patch(url, headers=auth, json={"household_id": family})
    assert shared.status_code == 200 and shared.json()["household_id"] == family
    assert await names(client, bob) == ["attic"]
    # A member sees the family's job but, as with a shared list, may not manage it.
    refused = await client.patch(url, headers=bob, json={"name": "loft"})
    assert (refused.status_code, refused.json()["detail"]) == (
        403,
        "as a member of Family, you can't rename the Family attic project",
    )
    gone = await client.delete(url, headers=bob)
    assert (gone.status_code, gone.json()["detail"]) == (
        403,
        "as a member of Family, you can't delete the Family attic project",
    )

    taken = await client.patch(url, headers=auth, json={"name": "Porch"})
    assert (taken.status_code, taken.json()["detail"]) == (
        409,
        "there is already a project named “porch”",
    )
    empty = await client.patch(url, headers=auth, json={})
    assert empty.status_code == 422
    renamed = await client.patch(url, headers=auth, json={"name": " loft "})
    assert renamed.status_code == 200 and renamed.json()["name"] == "loft"
    assert await names(client, bob) == ["loft"]

    unshared = await client.patch(url, headers=auth, json={"household_id": None})
    assert unshared.status_code == 200 and unshared.json()["household_id"] is None
    assert await names(client, bob) == []
    assert (await client.get(url, headers=bob)).status_code == 404

    assert await undo(client, auth) == "projects.update"  # shared again
    assert await names(client, bob) == ["loft"]
    assert await undo(client, auth) == "projects.update"  # its old name
    assert await names(client, bob) == ["attic"]


async def test_a_project_with_money_on_it_is_kept_and_one_without_comes_back_by_undo(
    client: httpx.AsyncClient, auth: dict
) -> None:
    await start(client, auth, "deck")
    work = {"description": "Framing", "quantity": "2", "unit_price": "40"}
    billed = await client.post("/v1/projects/deck/billables", headers=auth, json=work)
    assert billed.status_code == 201, billed.text
    spent = {"amount": "12.50", "merchant": "Lumber yard", "project": "deck"}
    assert (await client.post("/v1/transactions", headers=auth, json=spent)).status_code == 201
    kept = await client.delete("/v1/projects/deck", headers=auth)
    assert (kept.status_code, kept.json()["detail"]) == (
        409,
        "deck holds 1 billable item and 1 transaction: a project with money recorded on "
        "it is kept, so that none of it is lost",
    )
    assert await names(client, auth) == ["deck"]

    shed = await start(client, auth, "shed")
    task = await client.post(
        "/v1/tasks", headers=auth, json={"title": "order nails", "project": "shed"}
    )
    assert task.status_code == 201 and task.json()["project_id"] == shed
    deleted = await client.delete("/v1/projects/shed", headers=auth)
    assert deleted.status_code == 204, deleted.text
    assert await names(client, auth) == ["deck"]
    [nails] = (await client.get("/v1/tasks", headers=auth)).json()
    assert nails["project_id"] is None  # the task stays, on no project

    assert await undo(client, auth) == "projects.delete"
    assert await names(client, auth) == ["deck", "shed"]
    [nails] = (await client.get("/v1/tasks", headers=auth)).json()
    assert nails["project_id"] == shed


UPDATE = """mutation($p: String!, $input: ProjectPatch!) {
  updateProject(project: $p, input: $input) { id name householdId }
}"""


async def test_update_and_delete_a_project_over_graphql(
    client: httpx.AsyncClient, services: Services, auth: dict
) -> None:
    bob, family, _ = await family_member(client, services, auth, "admin")
    attic = await start(client, auth, "attic", household_id=family)

    # An admin of the household manages the family's project; a rename keeps it shared.
    renamed = await gql(client, bob, UPDATE, p="attic", input={"name": "loft"})
    assert renamed["data"]["updateProject"] == {"id": attic, "name": "loft", "householdId": family}
    query = "{ projects { name householdId } }"
    assert (await gql(client, auth, query))["data"]["projects"] == [
        {"name": "loft", "householdId": family}
    ]
    deleted = await gql(client, bob, 'mutation { deleteProject(project: "loft") }')
    assert deleted["data"]["deleteProject"] == attic
    assert (await gql(client, auth, query))["data"]["projects"] == []

    undone = await gql(client, bob, "mutation { undo { undid } }")
    assert undone["data"]["undo"] == {"undid": "projects.delete"}
    assert (await gql(client, auth, query))["data"]["projects"] == [
        {"name": "loft", "householdId": family}
    ]
    again = await gql(client, bob, "mutation { undo { undid } }")  # the rename, on Ann's row
    assert again["data"]["undo"] == {"undid": "projects.update"}
    # Only what is given changes: a null household takes it back to Ann alone.
    mine = await gql(client, auth, UPDATE, p=attic, input={"householdId": None})
    assert mine["data"]["updateProject"] == {"id": attic, "name": "attic", "householdId": None}
    hidden = await gql(client, bob, UPDATE, p=attic, input={"name": "loft"})
    assert hidden["errors"][0]["extensions"]["status"] == 404
