"""The permission matrix for money: every role × transaction action × one's own, in
one's household's books, or in another household's, through the finance service and
REST. Money is visible by role: owners, admins and the bookkeeper keep the books;
members and viewers do not see them. The table is the issue's, written here."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal

import httpx
import pytest

from agent.services import Services
from skills.access import AccessDenied
from skills.context import NotFound, SkillContext
from skills.finance.schemas import TransactionUpdate
from skills.finance.service import FinanceService
from store.database import session_scope
from store.models import Transaction, User
from tests.agent.test_permission_matrix import ROLES, SCOPES, World

ACTIONS = ["read", "change", "delete"]
KEEPS_THE_BOOKS = {"owner", "admin", "bookkeeper"}


def expected(role: str, action: str, scope: str) -> str:
    if scope == "own":
        return "ok"
    return "ok" if scope == "shared" and role in KEEPS_THE_BOOKS else "hidden"


Attempt = Callable[[World, str, uuid.UUID], Awaitable[str | None]]


async def paid(world: World, scope: str) -> uuid.UUID:
    owner, household = {
        "own": (world.bob.id, world.bobs_own),
        "shared": (world.ann.id, world.family),
        "other": (world.carol.id, world.neighbours),
    }[scope]
    async with session_scope(world.services.sessions) as s:
        made = Transaction(
            user_id=owner,
            household_id=household,
            amount=Decimal("12.50"),
            currency="USD",
            occurred_on=date(2026, 11, 30),
            merchant="Hardware store",
        )
        s.add(made)
        await s.flush()
        return made.id


async def state(world: World, transaction_id: uuid.UUID) -> tuple | None:
    async with session_scope(world.services.sessions) as s:
        found = await s.get(Transaction, transaction_id)
        return None if found is None else (found.merchant, found.amount)


async def through_service(world: World, action: str, transaction_id: uuid.UUID):
    try:
        async with session_scope(world.services.sessions) as s:
            bob = await s.get(User, world.bob.id)
            assert bob is not None
            service = FinanceService(SkillContext.for_user(s, bob))
            if action == "read":
                await service.get(transaction_id)
                return "ok"
            if action == "change":
                await service.update(transaction_id, TransactionUpdate(merchant="Lumber yard"))
            else:
                await service.delete(transaction_id)
    except AccessDenied:
        return "denied"
    except NotFound:
        return "hidden"
    return None


async def through_rest(client: httpx.AsyncClient, world: World, action: str, transaction_id):
    bob, url = world.token(), f"/v1/transactions/{transaction_id}"
    if action == "read":
        response = await client.get(url, headers=bob)
    elif action == "change":
        response = await client.patch(url, headers=bob, json={"merchant": "Lumber yard"})
    else:
        response = await client.delete(url, headers=bob)
    if response.status_code in (403, 404):
        return {403: "denied", 404: "hidden"}[response.status_code]
    assert response.status_code < 300, response.text
    return "ok" if action == "read" else None


async def walk(world: World, attempt: Attempt) -> list[str]:
    wrong = []
    for action, scope in itertools.product(ACTIONS, SCOPES):
        transaction_id = await paid(world, scope)
        before = await state(world, transaction_id)
        outcome = await attempt(world, action, transaction_id)
        after = await state(world, transaction_id)
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
    assert await walk(world, through_service) == []


async def test_rest(world: World, client: httpx.AsyncClient) -> None:
    async def attempt(w: World, action: str, transaction_id: uuid.UUID):
        return await through_rest(client, w, action, transaction_id)

    assert await walk(world, attempt) == []
