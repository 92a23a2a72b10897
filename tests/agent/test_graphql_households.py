"""Households through /graphql: the same rules as /v1/households and /v1/invitations.
A member joins with a code, shares a list, is made a viewer and refused, is removed
and loses the family's list (and undo brings him back to it); an invitation that is
sent goes out only when its operation is its own, and one that cannot go out is not
kept."""

from __future__ import annotations

import httpx
from pydantic import SecretStr
from sqlalchemy import func
from sqlmodel import select

from agent.services import Services
from store.database import session_scope
from store.models import Invitation
from tests.agent.graphql_client import family_member, gql
from tests.agent.test_households import sign_up
from tests.smtp_server import Inbox
from tests.twilio_server import FakeTwilio

INVITE = """mutation($h: UUID!, $to: InvitationInput!) {
  invite(householdId: $h, input: $to) { code role email sentBy }
}"""
LISTS = "{ lists { name household items { title } } }"


async def invitations_on_record(services: Services) -> int:
    async with session_scope(services.sessions) as db:
        return (await db.exec(select(func.count()).select_from(Invitation))).one()


async def test_join_share_demote_and_remove_a_member(
    client: httpx.AsyncClient, services: Services, auth: dict
) -> None:
    made = await gql(client, auth, 'mutation { createHousehold(name: "Family") { id role } }')
    family = made["data"]["createHousehold"]
    assert family["role"] == "OWNER"
    invited = await gql(
        client,
        auth,
        INVITE,
        h=family["id"],
        to={"email": "Bob@Example.com", "role": "MEMBER", "send": False},
    )
    invitation = invited["data"]["invite"]
    assert (invitation["email"], invitation["sentBy"]) == ("bob@example.com", None)

    bob = await sign_up(services, "bob@example.com")
    accept = "mutation($code: String!) { acceptInvitation(code: $code) { name role } }"
    joined = await gql(client, bob, accept, code=invitation["code"])
    assert joined["data"]["acceptInvitation"] == {"name": "Family", "role": "MEMBER"}
    again = await gql(client, bob, accept, code=invitation["code"])
    assert again["errors"][0]["extensions"]["status"] == 409  # used once

    task = await gql(
        client,
        auth,
        'mutation { createTask(input: {title: "milk", list: "shopping"}) { id listId } }',
    )
    milk = task["data"]["createTask"]
    shared = await gql(
        client,
        auth,
        "mutation($l: UUID!, $h: UUID!) { shareList(id: $l, householdId: $h) { household } }",
        l=milk["listId"],
        h=family["id"],
    )
    assert shared["data"]["shareList"] == {"household": "Family"}
    seen = await gql(client, bob, LISTS)
    assert {"name": "shopping", "household": "Family", "items": [{"title": "milk"}]} in seen[
        "data"
    ]["lists"]

    members = await gql(
        client,
        auth,
        "query($h: UUID!) { members(householdId: $h) { userId email role } }",
        h=family["id"],
    )
    [bobs] = [m for m in members["data"]["members"] if m["email"] == "bob@example.com"]
    # A member may not change roles; the owner may.
    demote = """mutation($h: UUID!, $u: UUID!) {
      changeRole(householdId: $h, userId: $u, role: VIEWER) { role }
    }"""
    refused = await gql(client, bob, demote, h=family["id"], u=bobs["userId"])
    assert refused["errors"][0]["extensions"]["status"] == 403
    changed = await gql(client, auth, demote, h=family["id"], u=bobs["userId"])
    assert changed["data"]["changeRole"] == {"role": "VIEWER"}
    # A viewer's change is refused with REST's 403, in words.
    jam = await gql(
        client,
        bob,
        'mutation { createTask(input: {title: "jam", list: "family shopping"}) { id } }',
    )
    [error] = jam["errors"]
    assert (error["message"], error["extensions"]["status"]) == (
        "you can only view the Family shopping list",
        403,
    )

    remove = "mutation($h: UUID!, $u: UUID!) { removeMember(householdId: $h, userId: $u) }"
    removed = await gql(client, auth, remove, h=family["id"], u=bobs["userId"])
    assert removed["data"]["removeMember"] == bobs["userId"]
    # Removed, Bob has lost the family and its list at once, over either API.
    assert "Family" not in [
        h["name"] for h in (await client.get("/v1/households", headers=bob)).json()
    ]
    assert [x["name"] for x in (await gql(client, bob, LISTS))["data"]["lists"]] == []
    gone = await gql(client, bob, "query($id: UUID!) { task(id: $id) { title } }", id=milk["id"])
    assert gone["errors"][0]["extensions"]["status"] == 404

    # The last owner cannot leave.
    leave = "mutation($h: UUID!) { leaveHousehold(householdId: $h) }"
    stays = await gql(client, auth, leave, h=family["id"])
    assert stays["errors"][0]["extensions"]["status"] == 409
    assert stays["errors"][0]["message"].startswith("you are its last owner")


async def test_a_member_leaves(client: httpx.AsyncClient, services: Services, auth: dict) -> None:
    family = (await gql(client, auth, 'mutation { createHousehold(name: "Home") { id } }'))["data"][
        "createHousehold"
    ]["id"]
    to = {"email": "bob@example.com", "send": False}
    code = (await gql(client, auth, INVITE, h=family, to=to))["data"]["invite"]["code"]
    bob = await sign_up(services, "bob@example.com")
    await gql(client, bob, "mutation($c: String!) { acceptInvitation(code: $c) { id } }", c=code)
    mine = "{ households { name } }"
    assert "Home" in [h["name"] for h in (await gql(client, bob, mine))["data"]["households"]]
    left = await gql(
        client, bob, "mutation($h: UUID!) { leaveHousehold(householdId: $h) }", h=family
    )
    assert left["data"]["leaveHousehold"] == family
    assert "Home" not in [h["name"] for h in (await gql(client, bob, mine))["data"]["households"]]
    members = await gql(
        client, auth, "query($h: UUID!) { members(householdId: $h) { email } }", h=family
    )
    assert members["data"]["members"] == [{"email": "ann@example.com"}]


async def test_a_sent_invitation_goes_alone_and_an_unsendable_one_is_not_kept(
    client: httpx.AsyncClient,
    services: Services,
    auth: dict,
    outside: tuple[Inbox, FakeTwilio],
) -> None:
    inbox, _twilio = outside
    family = (await gql(client, auth, 'mutation { createHousehold(name: "Home") { id } }'))["data"][
        "createHousehold"
    ]["id"]

    # With another change in the same operation it is refused, and neither is kept.
    mixed = await gql(
        client,
        auth,
        """mutation($h: UUID!) {
             createHousehold(name: "Cabin") { id }
             invite(householdId: $h, input: {email: "bob@example.com"}) { code }
           }""",
        h=family,
    )
    [error] = mixed["errors"]
    assert (error["message"], error["extensions"]["status"]) == (
        "send an invitation in an operation of its own",
        422,
    )
    names = [h["name"] for h in (await client.get("/v1/households", headers=auth)).json()]
    assert "Cabin" not in names
    assert await invitations_on_record(services) == 0 and inbox.messages == []

    sent = await gql(client, auth, INVITE, h=family, to={"email": "bob@example.com"})
    invitation = sent["data"]["invite"]
    assert invitation["sentBy"] == "email"
    assert invitation["code"] in inbox.last_to("bob@example.com")

    # Twilio refuses the text: 502, and no code is left that nobody received.
    settings = services.settings
    services.settings = settings.model_copy(update={"twilio_auth_token": SecretStr("wrong")})
    refused = await gql(client, auth, INVITE, h=family, to={"phone": "+14155550123"})
    [error] = refused["errors"]
    assert (error["message"], error["extensions"]["status"]) == (
        "the invitation could not be sent",
        502,
    )
    assert await invitations_on_record(services) == 1
    # No way to send texts at all: 503 before anything is written.
    services.settings = settings.model_copy(update={"twilio_account_sid": None})
    unsendable = await gql(client, auth, INVITE, h=family, to={"phone": "+14155550123"})
    [error] = unsendable["errors"]
    assert error["extensions"]["status"] == 503 and "Twilio" in error["message"]
    assert await invitations_on_record(services) == 1


async def test_undo_brings_a_removed_member_back(
    client: httpx.AsyncClient, services: Services, auth: dict
) -> None:
    bob, family, _ = await family_member(client, services, auth, "member")
    me = (await client.get("/v1/me", headers=bob)).json()["id"]
    remove = "mutation($h: UUID!, $u: UUID!) { removeMember(householdId: $h, userId: $u) }"
    assert (await gql(client, auth, remove, h=family, u=me))["data"]["removeMember"] == me
    assert (await gql(client, bob, LISTS))["data"]["lists"] == []

    undone = await gql(client, auth, "mutation { undo { undid facts } }")
    assert undone["data"]["undo"]["undid"] == "households.remove"
    assert undone["data"]["undo"]["facts"]["name"] == "Bob"
    assert (await gql(client, bob, LISTS))["data"]["lists"] == [
        {"name": "shopping", "household": "Family", "items": [{"title": "milk"}]}
    ]
    mine = (await gql(client, bob, "{ households { name role } }"))["data"]["households"]
    assert {"name": "Family", "role": "MEMBER"} in mine
