"""The permission matrix for money: every role × money action × one's own, in one's
household's books, or in another household's, through the finance service, REST,
GraphQL and the conversation. Money is visible by role: owners, admins and the bookkeeper keep
the books; members and viewers do not see its rows, and asking for the books as a
whole gets them a refusal in words. The table is the issue's, written here; the
people, households and the walk are in tests/agent/permissions.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from dateutil.relativedelta import relativedelta
from sqlalchemy import func
from sqlmodel import select

from skills.context import SkillContext
from skills.finance.invoices import InvoiceService
from skills.finance.reports import FinanceReports
from skills.finance.schemas import (
    BillableCreate,
    Period,
    TransactionCreate,
    TransactionUpdate,
)
from skills.finance.service import FinanceService
from skills.projects import ProjectService
from store.database import session_scope
from store.models import BillableItem, Project, Transaction, User
from tests.agent.permissions import (
    ROLES,
    World,
    by_graphql,
    by_service,
    by_status,
    by_words,
    table,
    walk,
)

KEEPS_THE_BOOKS = {"owner", "admin", "bookkeeper"}

# A transaction in a household's books: members and viewers do not know it is there.
ROW_ACTIONS = ["read", "change", "recategorize", "delete"]
rows_expected = table({r: set(ROW_ACTIONS) if r in KEEPS_THE_BOOKS else set() for r in ROLES})

# The books as a whole: a member or viewer knows the household, so it is told no.
BOOK_ACTIONS = ["summary", "record"]


def books_expected(role: str, action: str, scope: str) -> str:
    if scope == "own":
        return "ok"
    if scope == "other":
        return "hidden"
    return "ok" if role in KEEPS_THE_BOOKS else "denied"


# Merchants no two cases share, plain enough for the conversation to hear.
MERCHANTS = ["Hollis", "Marwick", "Brantley", "Ostend", "Calloway", "Pemberton", "Wexford"]
MERCHANTS += ["Thornbury", "Ashgrove", "Kingsley", "Radford", "Bellamy", "Dunmore"]


def today() -> datetime:
    return datetime.now(UTC)


class Rows:
    """Each case gets a fresh transaction, recorded by whoever the scope says."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.merchants = iter(MERCHANTS)

    async def make(self, scope: str) -> tuple[uuid.UUID, str]:
        owner, household = self.world.owner_of(scope)
        merchant = next(self.merchants)
        async with session_scope(self.world.services.sessions) as s:
            made = Transaction(
                user_id=owner,
                household_id=household,
                amount=Decimal("12.50"),
                currency="USD",
                occurred_on=today().date(),
                merchant=merchant,
            )
            s.add(made)
            await s.flush()
            return made.id, merchant

    async def state(self, handle: tuple[uuid.UUID, str]) -> tuple | None:
        async with session_scope(self.world.services.sessions) as s:
            found = await s.get(Transaction, handle[0])
            return None if found is None else (found.merchant, found.amount, found.category_id)


class Books:
    """A household's books (one's own household, the family's, the neighbours'), with
    one expense in them; their state is how many rows they hold."""

    def __init__(self, world: World) -> None:
        self.world, self.rows = world, Rows(world)

    async def make(self, scope: str) -> uuid.UUID:
        await self.rows.make(scope)
        return self.world.owner_of(scope)[1]

    async def state(self, household_id: uuid.UUID) -> int:
        async with session_scope(self.world.services.sessions) as s:
            counted = select(func.count()).where(Transaction.household_id == household_id)
            return (await s.exec(counted)).one()


# A project shared with the household: every role sees the job; its money (costing,
# billable work) is for the roles that keep the books, and the others are told no.
PROJECT_ACTIONS = ["read", "costing", "bill"]


def projects_expected(role: str, action: str, scope: str) -> str:
    if scope == "own":
        return "ok"
    if scope == "other":
        return "hidden"
    return "ok" if action == "read" or role in KEEPS_THE_BOOKS else "denied"


PROJECT_NAMES = ["attic", "porch", "garage", "cellar", "gazebo", "carport", "pergola"]
PROJECT_NAMES += ["veranda", "skylight", "chimney", "driveway", "boathouse"]


class Projects:
    """Each case gets a fresh project with one billable hour and one expense on it;
    its state is how much work is on it to bill."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.names = iter(PROJECT_NAMES)

    async def make(self, scope: str) -> tuple[uuid.UUID, str]:
        owner, household = self.world.owner_of(scope)
        name = next(self.names)
        async with session_scope(self.world.services.sessions) as s:
            project = Project(user_id=owner, household_id=household, name=name)
            s.add(project)
            await s.flush()
            s.add(
                BillableItem(
                    user_id=owner,
                    project_id=project.id,
                    description="Survey",
                    quantity=Decimal(1),
                    unit_price=Decimal(60),
                    occurred_on=today().date(),
                )
            )
            s.add(
                Transaction(
                    user_id=owner,
                    household_id=household,
                    project_id=project.id,
                    amount=Decimal("30.00"),
                    currency="USD",
                    occurred_on=today().date(),
                    merchant="Lumber yard",
                )
            )
            return project.id, name

    async def state(self, handle: tuple[uuid.UUID, str]) -> int:
        async with session_scope(self.world.services.sessions) as s:
            on_it = select(func.count()).where(BillableItem.project_id == handle[0])
            return (await s.exec(on_it)).one()


def this_month() -> Period:
    start = today().date().replace(day=1)
    return Period(start=start, end=start + relativedelta(months=1))


async def row_by_service(world: World, action: str, handle: tuple[uuid.UUID, str]):
    transaction_id = handle[0]

    async def do(ctx: SkillContext) -> str | None:
        finance = FinanceService(ctx)
        if action == "read":
            await finance.get(transaction_id)
            return "ok"
        if action == "change":
            await finance.update(transaction_id, TransactionUpdate(merchant="Lumber yard"))
        elif action == "recategorize":
            await finance.recategorize(transaction_id, "Tools")
        else:
            await finance.delete(transaction_id)
        return None

    return await by_service(world, do)


async def books_by_service(world: World, action: str, household_id: uuid.UUID):
    async def do(ctx: SkillContext) -> str | None:
        if action == "summary":
            await FinanceReports(ctx, household_id).summary(this_month())
            return "ok"
        data = TransactionCreate(amount=Decimal(5), merchant="Kiosk", household_id=household_id)
        await FinanceService(ctx).log(data)
        return None

    return await by_service(world, do)


async def project_by_service(world: World, action: str, handle: tuple[uuid.UUID, str]):
    project_id = handle[0]

    async def do(ctx: SkillContext) -> str | None:
        if action == "read":
            await ProjectService(ctx).get(project_id)
            return "ok"
        if action == "costing":
            costing = await FinanceReports(ctx).calculate_job_costing(project_id)
            assert costing.costs == Decimal("30.00")  # whoever recorded it
            return "ok"
        work = BillableCreate(description="Tiling", quantity=Decimal(2), unit_price=Decimal(40))
        await InvoiceService(ctx).add_billable(project_id, work)
        return None

    return await by_service(world, do)


async def project_by_rest(client: httpx.AsyncClient, world: World, action: str, handle):
    bob, url = world.token(), f"/v1/projects/{handle[0]}"
    if action == "read":
        response = await client.get(url, headers=bob)
    elif action == "costing":
        response = await client.get(f"{url}/costing", headers=bob)
    else:
        work = {"description": "Tiling", "quantity": "2", "unit_price": "40"}
        response = await client.post(f"{url}/billables", headers=bob, json=work)
    return by_status(response, read=action != "bill")


async def row_by_rest(client: httpx.AsyncClient, world: World, action: str, handle):
    bob, url = world.token(), f"/v1/transactions/{handle[0]}"
    if action == "read":
        response = await client.get(url, headers=bob)
    elif action == "change":
        response = await client.patch(url, headers=bob, json={"merchant": "Lumber yard"})
    elif action == "recategorize":
        response = await client.post(f"{url}/recategorize", headers=bob, json={"category": "Tools"})
    else:
        response = await client.delete(url, headers=bob)
    return by_status(response, read=action == "read")


async def books_by_rest(client: httpx.AsyncClient, world: World, action: str, household_id):
    bob, period = world.token(), this_month()
    if action == "summary":
        params = {"start": str(period.start), "end": str(period.end), "household_id": household_id}
        response = await client.get("/v1/transactions/summary", headers=bob, params=params)
    else:
        body = {"amount": "5", "merchant": "Kiosk", "household_id": str(household_id)}
        response = await client.post("/v1/transactions", headers=bob, json=body)
    return by_status(response, read=action == "summary")


# Each REST action as a GraphQL operation on $id (a transaction, a household, a project).
ROW_OPERATIONS = {
    "read": "query($id: UUID!) { transaction(id: $id) { id } }",
    "change": 'mutation($id: UUID!) { updateTransaction(id: $id, input: {merchant: "Lumber yard"})'
    " { id } }",
    "recategorize": 'mutation($id: UUID!) { recategorizeTransaction(id: $id, category: "Tools")'
    " { refiled } }",
    "delete": "mutation($id: UUID!) { deleteTransaction(id: $id) }",
}
BOOK_OPERATIONS = {
    "summary": "query($id: UUID!, $start: Date!, $end: Date!) "
    "{ summary(start: $start, end: $end, householdId: $id) { total } }",
    "record": 'mutation($id: UUID!) { logTransaction(input: {amount: "5", merchant: "Kiosk",'
    " householdId: $id}) { id } }",
}
PROJECT_OPERATIONS = {
    "read": "query($id: String!) { project(ref: $id) { id } }",
    "costing": "query($id: String!) { costing(project: $id) { costs } }",
    "bill": 'mutation($id: String!) { addBillable(project: $id, input: {description: "Tiling",'
    ' quantity: "2", unitPrice: "40"}) { id } }',
}


async def row_by_graphql(client: httpx.AsyncClient, world: World, action: str, handle):
    operation = ROW_OPERATIONS[action]
    return await by_graphql(client, world, operation, read=action == "read", id=str(handle[0]))


async def books_by_graphql(client: httpx.AsyncClient, world: World, action: str, household_id):
    given = {"id": str(household_id)}
    if action == "summary":
        period = this_month()
        given |= {"start": str(period.start), "end": str(period.end)}
    operation = BOOK_OPERATIONS[action]
    return await by_graphql(client, world, operation, read=action == "summary", **given)


async def project_by_graphql(client: httpx.AsyncClient, world: World, action: str, handle):
    operation = PROJECT_OPERATIONS[action]
    return await by_graphql(client, world, operation, read=action != "bill", id=str(handle[0]))


async def test_service_layer(world: World) -> None:
    wrong = await walk(world, Rows(world), row_by_service, ROW_ACTIONS, rows_expected)
    wrong += await walk(world, Books(world), books_by_service, BOOK_ACTIONS, books_expected)
    projects = Projects(world)
    wrong += await walk(world, projects, project_by_service, PROJECT_ACTIONS, projects_expected)
    assert wrong == []


async def test_rest(world: World, client: httpx.AsyncClient) -> None:
    async def rows(w: World, action: str, handle):
        return await row_by_rest(client, w, action, handle)

    async def books(w: World, action: str, household_id):
        return await books_by_rest(client, w, action, household_id)

    async def projects(w: World, action: str, handle):
        return await project_by_rest(client, w, action, handle)

    wrong = await walk(world, Rows(world), rows, ROW_ACTIONS, rows_expected)
    wrong += await walk(world, Books(world), books, BOOK_ACTIONS, books_expected)
    wrong += await walk(world, Projects(world), projects, PROJECT_ACTIONS, projects_expected)
    assert wrong == []


async def test_graphql(world: World, client: httpx.AsyncClient) -> None:
    async def rows(w: World, action: str, handle):
        return await row_by_graphql(client, w, action, handle)

    async def books(w: World, action: str, household_id):
        return await books_by_graphql(client, w, action, household_id)

    async def projects(w: World, action: str, handle):
        return await project_by_graphql(client, w, action, handle)

    assert (list(ROW_OPERATIONS), list(BOOK_OPERATIONS)) == (ROW_ACTIONS, BOOK_ACTIONS)
    assert list(PROJECT_OPERATIONS) == PROJECT_ACTIONS
    wrong = await walk(world, Rows(world), rows, ROW_ACTIONS, rows_expected)
    wrong += await walk(world, Books(world), books, BOOK_ACTIONS, books_expected)
    wrong += await walk(world, Projects(world), projects, PROJECT_ACTIONS, projects_expected)
    assert wrong == []


async def test_conversation(world: World, client: httpx.AsyncClient) -> None:
    async def refile(w: World, action: str, handle):
        return by_words([(await w.chat(client).say(f"file {handle[1]} under tools"))["reply"]])

    async def costing(w: World, action: str, handle):
        said = await w.chat(client).say(f"show me the costing for the {handle[1]} project")
        reply = said["reply"]
        return by_words([reply]) or ("ok" if reply.lower().startswith(handle[1]) else "hidden")

    wrong = await walk(world, Rows(world), refile, ["recategorize"], rows_expected)
    wrong += await walk(world, Projects(world), costing, ["costing"], projects_expected)
    assert wrong == []
    await spend_on_groceries(world)
    await ask_what_we_spent(world, client)


async def spend_on_groceries(world: World) -> None:
    """The family spent $52.50 on groceries (Ann's rows, in her categories); Bob spent
    $7 on his own, outside the family's books."""
    spent = [(world.ann.id, world.family, "40.00"), (world.ann.id, world.family, "12.50")]
    spent += [(world.bob.id, world.bobs_own, "7.00")]
    async with session_scope(world.services.sessions) as s:
        for user_id, household_id, amount in spent:
            user = await s.get(User, user_id)
            assert user is not None
            data = TransactionCreate(
                amount=Decimal(amount), category="Groceries", household_id=household_id
            )
            await FinanceService(SkillContext.for_user(s, user)).log(data)


async def ask_what_we_spent(world: World, client: httpx.AsyncClient) -> None:
    """ "We" is the family's figure for a role that keeps its books, a refusal in words
    for the others; "I" is always one's own."""
    chat = world.chat(client)
    said = await chat.say("how much did we spend on groceries this month")
    assert said["intent"]["slots"]["together"] is True
    if world.role in KEEPS_THE_BOOKS:
        assert said["reply"].startswith("Family spent $52.50 on groceries ")
    else:
        assert said["reply"] == f"As a {world.role} of Family, you can't see its money."
    mine = await chat.say("how much did I spend on groceries this month")
    assert mine["reply"].startswith("You spent $7.00 on groceries ")
