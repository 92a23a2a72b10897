"""Webhooks through the real entry points: a receiver on a loopback port subscribes
by REST and gets a signed delivery (checked with the standardwebhooks library) for
each change made by REST or by voice, by the user or by a housemate on a shared
list; nothing for a change that rolled back; retries with backoff on a stepped
clock, then the subscription disabled and its owner told; replay; SSRF refusals;
two senders on PostgreSQL delivering each once."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
import standardwebhooks
from sqlmodel import func, select

from agent.services import Services
from skills.addresses import parse_networks
from skills.context import SkillContext
from skills.tasks.schemas import TaskCreate
from skills.tasks.service import TaskService
from skills.webhooks.sender import RetryPolicy, Sender
from skills.webhooks.transport import checked_client
from store.database import session_scope
from store.models import AuditEntry, User, WebhookDelivery
from store.types import utcnow
from tests.agent.test_converse import Chat
from tests.agent.test_households import family_with_shared_list, invite, sign_up
from tests.agent.test_reminders import Recorder, add_task, prefer, scheduler
from tests.agent.webhook_receiver import Receiver, running_receiver

LOOPBACK = "127.0.0.1/32"


@pytest.fixture
async def receiver(services: Services) -> AsyncIterator[Receiver]:
    services.settings.webhook_allow_networks = LOOPBACK  # the receiver is on loopback
    async with running_receiver() as running:
        yield running


@pytest.fixture
async def sender(services: Services) -> AsyncIterator[Sender]:
    policy = RetryPolicy(max_attempts=3, disable_after=4)
    async with checked_client(parse_networks(LOOPBACK)) as client:
        yield services.webhook_sender(client, policy=policy, rng=random.Random(7))


@dataclass
class OpenPage:
    """The owner's page, open: what the service says to it unasked."""

    said: list[tuple[str, dict]] = field(default_factory=list)

    async def announce(self, text: str, event: dict) -> bool:
        self.said.append((text, event))
        return True


async def subscribe(
    client: httpx.AsyncClient, auth: dict, url: str, **extra: object
) -> tuple[str, standardwebhooks.Webhook]:
    made = await client.post("/v1/webhooks", headers=auth, json={"url": url, **extra})
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")
    return made.json()["id"], standardwebhooks.Webhook(secret)


def verified(receiver: Receiver, verifier: standardwebhooks.Webhook) -> list[dict]:
    """Every payload received, each signature checked by the library (it raises), in
    the order of the changes (on PostgreSQL the sender posts side by side)."""
    payloads = [verifier.verify(r.body, r.headers) for r in receiver.received]
    return sorted(payloads, key=lambda p: p["timestamp"])


async def test_rest_and_voice_changes_arrive_signed(
    client: httpx.AsyncClient, auth: dict, receiver: Receiver, sender: Sender, user: User
) -> None:
    webhook_id, verifier = await subscribe(client, auth, receiver.url)
    listed = (await client.get("/v1/webhooks", headers=auth)).json()
    assert [w["id"] for w in listed] == [webhook_id] and "secret" not in listed[0]

    added = await client.post("/v1/tasks", headers=auth, json={"title": "milk"})
    assert added.status_code == 201, added.text
    await Chat(client, auth).say("Add eggs to my shopping list")
    done = await client.post(f"/v1/tasks/{added.json()['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    undone = await client.post("/v1/undo", headers=auth)  # undo reports what it changed
    assert undone.status_code == 200, undone.text
    assert receiver.received == []  # the outbox, not the request, sends
    await sender.run_due()

    payloads = verified(receiver, verifier)
    assert [(p["type"], p["data"]["title"], p["data"]["status"]) for p in payloads] == [
        ("task.created", "milk", "open"),
        ("task.created", "eggs", "open"),
        ("task.completed", "milk", "done"),
        ("task.updated", "milk", "open"),
    ]
    assert {p["actor_id"] for p in payloads} == {str(user.id)}
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(set(ids)) == 4

    log = (await client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=auth)).json()
    assert [d["status"] for d in log] == ["delivered"] * 4
    assert sorted(d["message_id"] for d in log) == sorted(ids)
    assert all([a["status_code"] for a in d["log"]] == [200] for d in log)
    await sender.run_due()  # delivered once: nothing more goes out
    assert len(receiver.received) == 4


async def test_calendar_and_money_changes_arrive(
    client: httpx.AsyncClient, auth: dict, receiver: Receiver, sender: Sender
) -> None:
    wanted = ["event.created", "event.cancelled", "transaction.created", "invoice.sent",
              "invoice.paid"]  # fmt: skip
    _, verifier = await subscribe(client, auth, receiver.url, events=wanted)
    event = await client.post(
        "/v1/events",
        headers=auth,
        json={"title": "Dentist", "start_at": "2026-03-02T09:00:00-05:00", "duration_minutes": 30},
    )
    assert (
        await client.delete(f"/v1/events/{event.json()['id']}", headers=auth)
    ).status_code == 204
    spent = {"amount": "12.50", "merchant": "Cafe Luna", "occurred_on": "2026-03-02"}
    await client.post("/v1/transactions", headers=auth, json=spent)
    await client.post("/v1/projects", headers=auth, json={"name": "Deck", "hourly_rate": "95"})
    await client.post(
        "/v1/projects/deck/billables",
        headers=auth,
        json={"description": "Framing", "quantity": "3"},
    )
    invoice = (await client.post("/v1/invoices", headers=auth, json={"project": "deck"})).json()
    for step in ("send", "paid"):
        moved = await client.post(f"/v1/invoices/{invoice['id']}/{step}", headers=auth)
        assert moved.status_code == 200, moved.text
    await sender.run_due()

    payloads = verified(receiver, verifier)
    types = [p["type"] for p in payloads]
    assert types[:4] == ["event.created", "event.cancelled", "transaction.created", "invoice.sent"]
    # Marking it paid records the payment as income in the same change.
    assert sorted(types[4:]) == ["invoice.paid", "transaction.created"]
    assert payloads[2]["data"]["amount"] == "12.50"
    [paid] = [p for p in payloads if p["type"] == "invoice.paid"]
    assert paid["data"]["status"] == "paid"


async def test_a_housemate_adding_to_a_shared_list_reaches_the_household_webhook(
    client: httpx.AsyncClient, services: Services, auth: dict, receiver: Receiver, sender: Sender
) -> None:
    family, _ = await family_with_shared_list(client, auth)
    bob = await sign_up(services, "bob@example.com")
    keeper = await sign_up(services, "kim@example.com")
    for who, email, role in ((bob, "bob@example.com", "member"), (keeper, "kim@example.com",
                                                                  "bookkeeper")):  # fmt: skip
        code = await invite(client, auth, family, role, email=email)
        joined = await client.post("/v1/invitations/accept", headers=who, json={"code": code})
        assert joined.status_code == 200, joined.text
    _, verifier = await subscribe(
        client, auth, receiver.url, household_id=family, events=["task.created"]
    )
    # The bookkeeper's household webhook: lists are not theirs to see.
    await subscribe(client, keeper, receiver.url, household_id=family)

    said = await Chat(client, bob).say("add eggs to the family shopping list")
    assert said["reply"] == "Added eggs to your shopping list."
    await sender.run_due()

    [payload] = verified(receiver, verifier)
    bob_id = (await client.get("/v1/me", headers=bob)).json()["id"]
    assert payload["type"] == "task.created"
    assert (payload["data"]["title"], payload["actor_id"]) == ("eggs", bob_id)


async def test_a_change_that_rolls_back_sends_nothing(
    services: Services, client: httpx.AsyncClient, auth: dict, receiver: Receiver, sender: Sender,
    user: User,
) -> None:  # fmt: skip
    await subscribe(client, auth, receiver.url)

    async def add(title: str, *, fail: bool) -> None:
        async with session_scope(services.sessions) as session:
            ctx = SkillContext.for_user(session, user)
            await TaskService(ctx).create(TaskCreate(title=title))
            await session.flush()  # the audit row and its outbox rows are written…
            if fail:
                raise RuntimeError("the change fails after its writes")  # …and roll back

    with pytest.raises(RuntimeError):
        await add("lost", fail=True)
    await add("kept", fail=False)
    await sender.run_due()
    assert [json.loads(r.body)["data"]["title"] for r in receiver.received] == ["kept"]


async def test_a_failing_receiver_is_retried_with_backoff_then_disabled_and_its_owner_told(
    client: httpx.AsyncClient, services: Services, auth: dict, receiver: Receiver, sender: Sender,
    user: User,
) -> None:  # fmt: skip
    page = OpenPage()
    services.voice_connections[user.id] = page
    webhook_id, verifier = await subscribe(client, auth, receiver.url)
    receiver.status = 500
    await client.post("/v1/tasks", headers=auth, json={"title": "milk"})
    t0 = utcnow()

    await sender.run_due(t0)
    [delivery] = (await client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=auth)).json()
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    wait = datetime.fromisoformat(delivery["next_attempt_at"]) - t0
    # The first retry: 10 s, half of it random.
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=10)
    await sender.run_due(t0 + timedelta(seconds=4))
    assert len(receiver.received) == 1  # not yet due
    lag = services.metrics.registry.get_sample_value("lifeos_webhook_queue_lag_seconds")
    assert 4.0 <= lag < 60  # the delivery was queued just before t0

    await sender.run_due(t0 + timedelta(seconds=10))
    [delivery] = (await client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=auth)).json()
    second = datetime.fromisoformat(delivery["next_attempt_at"]) - (t0 + timedelta(seconds=10))
    assert timedelta(seconds=20) <= second <= timedelta(seconds=40)  # four times longer
    await sender.run_due(t0 + timedelta(minutes=1))
    [delivery] = (await client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=auth)).json()
    assert delivery["status"] == "failed"  # three attempts: the most this policy makes
    assert [a["status_code"] for a in delivery["log"]] == [500, 500, 500]
    assert delivery["log"][0]["error"] == "the receiver answered 500"

    await client.post("/v1/tasks", headers=auth, json={"title": "eggs"})
    await sender.run_due(t0 + timedelta(minutes=2))  # the fourth failure in a row
    [webhook] = (await client.get("/v1/webhooks", headers=auth)).json()
    assert webhook["active"] is False
    assert webhook["disabled_reason"].startswith("4 attempts in a row failed")
    async with services.sessions() as db:
        told = await db.exec(select(AuditEntry).where(AuditEntry.action == "webhooks.disabled"))
        assert [entry.meta["url"] for entry in told] == [receiver.url]
    [(said, event)] = page.said  # once, on the page they have open
    assert said.startswith("Your webhook to 127.0.0.1 was turned off after 4 failed deliveries")
    assert event == {"type": "notice", "text": said, "webhook_id": webhook_id}
    await client.post("/v1/tasks", headers=auth, json={"title": "bread"})
    await sender.run_due(t0 + timedelta(hours=1))
    assert len(receiver.received) == 4  # disabled: nothing more is sent, bread not queued

    # Fixed and enabled again: what waited (eggs) goes out, and milk is replayed.
    receiver.status = 200
    refused = await client.post(f"/v1/webhooks/deliveries/{delivery['id']}/replay", headers=auth)
    enabled = await client.post(f"/v1/webhooks/{webhook_id}/enable", headers=auth)
    replayed = await client.post(f"/v1/webhooks/deliveries/{delivery['id']}/replay", headers=auth)
    assert (refused.status_code, enabled.status_code, replayed.status_code) == (409, 200, 202)
    await sender.run_due()
    later = receiver.received[4:]
    titles = [verifier.verify(r.body, r.headers)["data"]["title"] for r in later]
    assert sorted(titles) == ["eggs", "milk"]
    milk = [r for r in receiver.received if json.loads(r.body)["data"]["title"] == "milk"]
    assert len({r.headers["webhook-id"] for r in milk}) == 1  # a replay keeps its id


async def test_a_reminder_that_fires_is_delivered(
    client: httpx.AsyncClient, services: Services, auth: dict, user: User, receiver: Receiver,
    sender: Sender,
) -> None:  # fmt: skip
    _, verifier = await subscribe(client, auth, receiver.url, events=["reminder.fired"])
    await prefer(services, user, ["sms"])
    due = utcnow().replace(microsecond=0) + timedelta(minutes=1)
    await add_task(client, auth, "call mom", due)
    await scheduler(services, Recorder()).run_due(due)
    await sender.run_due(due)  # a minute ahead: inside the receiver's tolerance
    [fired] = verified(receiver, verifier)  # the task's creation was not asked for
    assert fired["type"] == "reminder.fired"
    assert (fired["data"]["title"], fired["data"]["channel"]) == ("call mom", "sms")


async def test_ping_and_other_users_see_nothing(
    client: httpx.AsyncClient, auth: dict, intruder: dict, receiver: Receiver, sender: Sender
) -> None:
    webhook_id, verifier = await subscribe(client, auth, receiver.url)
    pinged = await client.post(f"/v1/webhooks/{webhook_id}/ping", headers=auth)
    assert pinged.status_code == 202, pinged.text
    await sender.run_due()
    assert [p["type"] for p in verified(receiver, verifier)] == ["webhook.test"]

    delivery = pinged.json()["id"]
    assert (await client.get("/v1/webhooks", headers=intruder)).json() == []
    for method, path in (
        ("GET", f"/v1/webhooks/{webhook_id}/deliveries"),
        ("POST", f"/v1/webhooks/{webhook_id}/ping"),
        ("DELETE", f"/v1/webhooks/{webhook_id}"),
        ("POST", f"/v1/webhooks/deliveries/{delivery}/replay"),
    ):
        answer = await client.request(method, path, headers=intruder)
        assert answer.status_code == 404, (path, answer.text)
    gone = await client.delete(f"/v1/webhooks/{webhook_id}", headers=auth)
    assert gone.status_code == 204
    assert (await client.get("/v1/webhooks", headers=auth)).json() == []


async def test_the_services_own_sender_runs_in_the_background(
    client: httpx.AsyncClient, services: Services, auth: dict, receiver: Receiver
) -> None:
    webhook_id, verifier = await subscribe(client, auth, receiver.url)
    services.start_webhooks()  # as `lifeos serve` starts it, on the service's settings
    try:
        pinged = await client.post(f"/v1/webhooks/{webhook_id}/ping", headers=auth)
        assert pinged.status_code == 202
        await asyncio.wait_for(receiver.arrived.wait(), 30)  # woken by the ping, not a timer
    finally:
        await services.close_webhooks()
    assert [p["type"] for p in verified(receiver, verifier)] == ["webhook.test"]


async def test_private_and_loopback_receivers_are_refused(
    client: httpx.AsyncClient, auth: dict
) -> None:
    for url in (
        "http://127.0.0.1:9/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost/hook",  # a name that resolves to loopback
        "ftp://example.com/hook",
    ):
        refused = await client.post("/v1/webhooks", headers=auth, json={"url": url})
        assert refused.status_code == 422, url
        assert "public address" in refused.json()["detail"]
    unknown = await client.post(
        "/v1/webhooks", headers=auth, json={"url": "http://nowhere.invalid/"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "the URL's host name could not be found"
    assert (await client.get("/v1/webhooks", headers=auth)).json() == []


async def test_the_sender_checks_each_connection_and_follows_no_redirect(
    client: httpx.AsyncClient, services: Services, auth: dict, receiver: Receiver
) -> None:
    webhook_id, _ = await subscribe(client, auth, receiver.url)  # allowed when made…
    await client.post("/v1/tasks", headers=auth, json={"title": "milk"})
    async with checked_client() as strict:  # …but this sender allows no private network
        await Sender(services.sessions, strict, services.keys).run_due()
    assert receiver.received == []
    [delivery] = (await client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=auth)).json()
    assert delivery["log"][0]["error"] == "refused: the address is not a public one"

    receiver.status, receiver.location = 307, "http://169.254.169.254/"
    async with checked_client(parse_networks(LOOPBACK)) as loose:
        await Sender(services.sessions, loose, services.keys).run_due(utcnow() + timedelta(hours=1))
    assert len(receiver.received) == 1
    [delivery] = (await client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=auth)).json()
    assert delivery["log"][-1]["status_code"] == 307
    assert "redirects are not followed" in delivery["log"][-1]["error"]


async def test_two_senders_deliver_each_once(
    client: httpx.AsyncClient, services: Services, auth: dict, receiver: Receiver, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("two processes share a PostgreSQL database; SQLite serves one")
    await subscribe(client, auth, receiver.url)
    titles = [f"item {n}" for n in range(8)]
    for title in titles:
        await client.post("/v1/tasks", headers=auth, json={"title": title})
    networks = parse_networks(LOOPBACK)
    async with checked_client(networks) as one, checked_client(networks) as two:
        first = Sender(services.sessions, one, services.keys, batch=3)
        second = Sender(services.sessions, two, services.keys, batch=3)
        await asyncio.gather(first.run_due(), second.run_due())
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 8
    async with services.sessions() as db:
        waiting = (
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status != "delivered")
        )
        assert (await db.exec(waiting)).one() == 0
