"""Households through the real entry points: a family shares a shopping list, a
second person is invited by a code, changes the list from their own page and by
voice, and, made a viewer, is refused in words."""

from __future__ import annotations

import uuid

import httpx

from agent.services import Services
from store.database import session_scope
from store.models import UserCreate
from store.repositories.users import create_user
from tests.agent.test_converse import Chat


async def sign_up(services: Services, email: str, phone: str | None = None) -> dict[str, str]:
    async with session_scope(services.sessions) as session:
        user = await create_user(
            session, UserCreate(email=email, phone=phone, name=email[:3].title())
        )
    return {"Authorization": f"Bearer {services.tokens.issue(user.id)}"}


async def family_with_shared_list(client: httpx.AsyncClient, auth: dict) -> tuple[str, str]:
    """Ann's "Family" household and her shopping list (milk on it), shared with it."""
    made = await client.post("/v1/households", headers=auth, json={"name": "Family"})
    assert made.status_code == 201, made.text
    family = made.json()["id"]
    added = await client.post("/v1/tasks", headers=auth, json={"title": "milk", "list": "shopping"})
    assert added.status_code == 201, added.text
    shopping = added.json()["list_id"]
    shared = await client.patch(
        f"/v1/lists/{shopping}", headers=auth, json={"household_id": family}
    )
    assert shared.status_code == 200, shared.text
    assert shared.json()["household"] == "Family"
    return family, shopping


async def invite(client: httpx.AsyncClient, auth: dict, family: str, role: str, **to: str) -> str:
    sent = await client.post(
        f"/v1/households/{family}/invitations",
        headers=auth,
        json={"role": role, "send": False, **to},
    )
    assert sent.status_code == 201, sent.text
    return sent.json()["code"]


async def titles(client: httpx.AsyncClient, auth: dict, **params: str) -> list[str]:
    response = await client.get("/v1/tasks", headers=auth, params=params)
    assert response.status_code == 200, response.text
    return sorted(t["title"] for t in response.json())


async def test_invited_member_shares_the_list_then_as_viewer_is_refused_in_words(
    client: httpx.AsyncClient, services: Services, auth: dict, user
) -> None:
    family, shopping = await family_with_shared_list(client, auth)
    bob = await sign_up(services, "bob@example.com")
    code = await invite(client, auth, family, "member", email="Bob@Example.com")

    joined = await client.post("/v1/invitations/accept", headers=bob, json={"code": code.lower()})
    assert joined.status_code == 200, joined.text
    assert joined.json() | {"id": family} == {
        "id": family,
        "name": "Family",
        "role": "member",
        "personal": False,
    }
    again = await client.post("/v1/invitations/accept", headers=bob, json={"code": code})
    assert again.status_code == 409  # single use
    mine = (await client.get("/v1/households", headers=bob)).json()
    assert [(h["name"], h["role"], h["personal"]) for h in mine] == [
        ("Bob's household", "owner", True),
        ("Family", "member", False),
    ]

    # Bob's own page shows Ann's list, and he changes it, by REST and by voice.
    [listed] = (await client.get("/v1/lists", headers=bob)).json()
    assert listed | {"id": shopping} == {
        "id": shopping,
        "name": "shopping",
        "open_tasks": 1,
        "household_id": family,
        "household": "Family",
        "mine": False,
    }
    bob_id = (await client.get("/v1/me", headers=bob)).json()["id"]
    assert services.assistant is not None  # speech recognition expects the list's name
    assert "shopping" in await services.assistant.vocabulary(uuid.UUID(bob_id))
    chat = Chat(client, bob)
    added = await chat.say("add eggs to the family shopping list")
    assert added["reply"] == "Added eggs to your shopping list."
    [milk] = [
        t for t in (await client.get("/v1/tasks", headers=bob)).json() if t["title"] == "milk"
    ]
    done = await client.post(f"/v1/tasks/{milk['id']}/complete", headers=bob)
    assert done.status_code == 200, done.text
    assert await titles(client, auth, list="shopping", status="open") == ["eggs"]

    # Made a viewer, Bob still reads the list but every change is refused.
    members = (await client.get(f"/v1/households/{family}/members", headers=auth)).json()
    assert [(m["email"], m["role"]) for m in members] == [
        ("ann@example.com", "owner"),
        ("bob@example.com", "member"),
    ]
    demoted = await client.patch(
        f"/v1/households/{family}/members/{bob_id}", headers=auth, json={"role": "viewer"}
    )
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    chat = Chat(client, bob)
    refused = await chat.say("delete everything on the family shopping list")
    assert (refused["reply"], refused["needs"]) == (
        "You can only view the Family shopping list.",
        None,
    )
    heard = await chat.say("what's on the family shopping list?")
    assert "eggs" in heard["reply"]
    gone = await client.delete(f"/v1/lists/{shopping}", headers=bob)
    assert (gone.status_code, gone.json()["detail"]) == (
        403,
        "you can only view the Family shopping list",
    )
    blocked = await client.post(
        "/v1/tasks", headers=bob, json={"title": "jam", "list": "family shopping"}
    )
    assert blocked.status_code == 403
    assert await titles(client, auth, list="shopping") == ["eggs", "milk"]

    # The last owner cannot leave; Bob can, and the list is gone from his page.
    stuck = await client.post(f"/v1/households/{family}/leave", headers=auth)
    assert stuck.status_code == 409 and "last owner" in stuck.json()["detail"]
    left = await client.post(f"/v1/households/{family}/leave", headers=bob)
    assert left.status_code == 204
    assert (await client.get("/v1/lists", headers=bob)).json() == []
    assert (await client.get(f"/v1/lists/{shopping}", headers=bob)).status_code in (404, 405)


async def test_the_bookkeeper_keeps_the_books_and_sees_no_lists(
    client: httpx.AsyncClient, services: Services, auth: dict, user
) -> None:
    family, _ = await family_with_shared_list(client, auth)
    dan = await sign_up(services, "dan@example.com", phone="+14155550199")
    bob = await sign_up(services, "bob@example.com")
    for who, role, to in ((dan, "bookkeeper", {"phone": "+1 415 555 0199"}), (bob, "member", {})):
        code = await invite(client, auth, family, role, **(to or {"email": "bob@example.com"}))
        joined = await client.post("/v1/invitations/accept", headers=who, json={"code": code})
        assert joined.status_code == 200, joined.text
    paid = await client.post(
        "/v1/transactions",
        headers=auth,
        json={
            "kind": "expense",
            "amount": "84.20",
            "merchant": "Hardware store",
            "household_id": family,
        },
    )
    assert paid.status_code == 201, paid.text
    await client.post("/v1/transactions", headers=auth, json={"amount": "4.50", "merchant": "Cafe"})

    books = (await client.get("/v1/transactions", headers=dan)).json()
    assert [(t["merchant"], t["amount"], t["household_id"]) for t in books] == [
        ("Hardware store", "84.20", family)
    ]
    assert (await client.get("/v1/lists", headers=dan)).json() == []
    assert (await client.get("/v1/transactions", headers=bob)).json() == []  # a member
    fixed = await client.patch(
        f"/v1/transactions/{paid.json()['id']}", headers=dan, json={"amount": "82.40"}
    )
    assert fixed.status_code == 200 and fixed.json()["amount"] == "82.40"
    # A member adds to the books without reading them: their own row, in the books.
    added = await client.post(
        "/v1/transactions",
        headers=bob,
        json={"amount": "9.99", "merchant": "Toys", "household_id": family},
    )
    assert added.status_code == 201, added.text
    theirs = (await client.get("/v1/transactions", headers=bob)).json()
    assert [(t["merchant"], t["household_id"]) for t in theirs] == [("Toys", family)]
    books = (await client.get("/v1/transactions", headers=dan)).json()
    assert sorted(t["merchant"] for t in books) == ["Hardware store", "Toys"]
    refused = await client.get("/v1/transactions", headers=bob, params={"household_id": family})
    assert (refused.status_code, refused.json()["detail"]) == (
        403,
        "as a member of Family, you can't see its money",
    )


async def test_undo_by_voice_refuses_in_words_over_a_housemates_change(
    client: httpx.AsyncClient, services: Services, auth: dict, user
) -> None:
    family, _ = await family_with_shared_list(client, auth)
    bob = await sign_up(services, "bob@example.com")
    code = await invite(client, auth, family, "member", email="bob@example.com")
    assert (
        await client.post("/v1/invitations/accept", headers=bob, json={"code": code})
    ).is_success
    chat = Chat(client, bob)
    await chat.say("add eggs to the family shopping list")
    [eggs] = [
        t for t in (await client.get("/v1/tasks", headers=auth)).json() if t["title"] == "eggs"
    ]
    assert (await client.post(f"/v1/tasks/{eggs['id']}/complete", headers=auth)).is_success

    refused = await chat.say("undo that")
    assert refused["reply"] == "Ann has changed eggs since, so I left it as it is."
    assert await titles(client, auth, list="shopping", status="done") == ["eggs"]


async def test_undo_brings_a_removed_member_back_with_the_shared_list_and_old_role(
    client: httpx.AsyncClient, services: Services, auth: dict, user
) -> None:
    family, shopping = await family_with_shared_list(client, auth)
    bob = await sign_up(services, "bob@example.com")
    code = await invite(client, auth, family, "admin", email="bob@example.com")
    assert (
        await client.post("/v1/invitations/accept", headers=bob, json={"code": code})
    ).is_success
    bob_id = (await client.get("/v1/me", headers=bob)).json()["id"]
    member = f"/v1/households/{family}/members/{bob_id}"

    assert (await client.delete(member, headers=auth)).status_code == 204
    assert (await client.get("/v1/lists", headers=bob)).json() == []
    undone = await client.post("/v1/undo", headers=auth)
    assert undone.status_code == 200 and undone.json()["undid"] == "households.remove"
    [listed] = (await client.get("/v1/lists", headers=bob)).json()
    assert (listed["id"], listed["household"]) == (shopping, "Family")
    mine = (await client.get("/v1/households", headers=bob)).json()
    assert ("Family", "admin") in [(h["name"], h["role"]) for h in mine]

    # A new role, taken back: the previous one again, and Bob may manage members again.
    demoted = await client.patch(member, headers=auth, json={"role": "viewer"})
    assert demoted.status_code == 200
    assert (await client.post("/v1/undo", headers=auth)).json()["undid"] == "households.role"
    members = (await client.get(f"/v1/households/{family}/members", headers=bob)).json()
    assert [(m["email"], m["role"]) for m in members] == [
        ("ann@example.com", "owner"),
        ("bob@example.com", "admin"),
    ]

    # Bob leaves and thinks better of it: undo lets him back in, as an admin.
    assert (await client.post(f"/v1/households/{family}/leave", headers=bob)).status_code == 204
    back = await client.post("/v1/undo", headers=bob)
    assert back.status_code == 200 and back.json()["undid"] == "households.leave"
    assert [x["id"] for x in (await client.get("/v1/lists", headers=bob)).json()] == [shopping]

    # Ann's change before those was inviting him; he has used the code, so it stays.
    used = await client.post("/v1/undo", headers=auth)
    assert (used.status_code, used.json()["detail"]) == (
        409,
        "bob@example.com has joined with that invitation already; remove them instead",
    )
