"""The permission matrix for money: every role × money action × one's own, in one's
household's books, or in another household's, through the finance service, REST,
GraphQL and the conversation. Money is visible by role: owners, admins and the
bookkeeper keep the books; members and viewers do not see its rows, and asking for
the books as a whole gets them a refusal in words. A member adds to the books without
reading them (records an expense, imports a statement, files under the household's
categories); its bank feeds and invoices are for the keepers only. A shared project
is managed (renamed, unshared, deleted) as a shared list is, by an owner or admin.
GraphQL walks what it has an operation for: the rows, the books' totals and
recording, projects (managing them too) and invoices; it has no statement import,
category set or bank feed, so those are walked through the service and REST only.
The conversation is walked on each of its channels; a kitchen speaker does no money
at all, for any role, and says so. The table is the issue's, written here; the
people, households and the walk are in tests/agent/permissions.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func
from sqlmodel import select

from skills.context import SkillContext
from skills.finance.bank import BankService
from skills.finance.imports import StatementImporter
from skills.finance.invoices import InvoiceService
from skills.finance.reports import FinanceReports
from skills.finance.schemas import (
    BillableCreate,
    Period,
    ProjectUpdate,
    TransactionCreate,
    TransactionUpdate,
)
from skills.finance.service import FinanceService
from skills.projects import ProjectService
from store.database import session_scope
from store.models import BankLink, BillableItem, Category, Invoice, Project, Transaction, User
from tests.agent.graphql_client import gql
from tests.agent.permissions import (
    CHANNELS,
    ROLES,
    SPEAKER_NO_MONEY,
    Conversation,
    Outcome,
    World,
    by_device,
    by_graphql,
    by_service,
    by_status,
    by_words,
    table,
    talking,
    walk,
)

KEEPS_THE_BOOKS = {"owner", "admin", "bookkeeper"}
ADDS_TO_THE_BOOKS = KEEPS_THE_BOOKS | {"member"}

# A transaction in a household's books: members and viewers do not know it is there.
ROW_ACTIONS = ["read", "change", "recategorize", "delete"]
rows_expected = table({r: set(ROW_ACTIONS) if r in KEEPS_THE_BOOKS else set() for r in ROLES})

# The books as a whole, and what fills them: a role that may not knows the household,
# so it is told no. Reading them is the keepers'; adding to them (an expense, a
# statement, filed under its categories) a member's too; adding categories the keepers'.
BOOK_ACTIONS = ["summary", "record", "import"]
CATEGORY_ACTIONS = ["use", "add"]
MAY = {
    "summary": KEEPS_THE_BOOKS,
    "record": ADDS_TO_THE_BOOKS,
    "import": ADDS_TO_THE_BOOKS,
    "use": ADDS_TO_THE_BOOKS,
    "add": KEEPS_THE_BOOKS,
}


def books_expected(role: str, action: str, scope: str) -> str:
    if scope == "own":
        return "ok"
    if scope == "other":
        return "hidden"
    return "ok" if role in MAY[action] else "denied"


# A household's bank feed and its invoices: the keepers' alone; the others do not know
# they are there.
FEED_ACTIONS = ["read", "disconnect"]
INVOICE_ACTIONS = ["read", "send"]
feeds_expected = table({r: set(FEED_ACTIONS) if r in KEEPS_THE_BOOKS else set() for r in ROLES})
invoices_expected = table(
    {r: set(INVOICE_ACTIONS) if r in KEEPS_THE_BOOKS else set() for r in ROLES}
)
STATEMENT = b"Date,Description,Amount\n2026-03-02,CARD 1234 WHOLE FOODS MARKET,-82.17\n"


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


class CategorySets:
    """A household's category set; its state is how many categories it has."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.names = iter(MERCHANTS)

    async def make(self, scope: str) -> uuid.UUID:
        owner, household = self.world.owner_of(scope)
        async with session_scope(self.world.services.sessions) as s:
            s.add(Category(user_id=owner, household_id=household, name=next(self.names)))
        return household

    async def state(self, household_id: uuid.UUID) -> int:
        async with session_scope(self.world.services.sessions) as s:
            counted = select(func.count()).where(Category.household_id == household_id)
            return (await s.exec(counted)).one()


class Feeds:
    """A bank feed into a household's books; its state is whether it is still there."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def make(self, scope: str) -> uuid.UUID:
        owner, household = self.world.owner_of(scope)
        async with session_scope(self.world.services.sessions) as s:
            link = BankLink(
                user_id=owner,
                household_id=household,
                item_id=f"item-{uuid.uuid4().hex[:8]}",
                access_token_sealed="sealed",
            )
            s.add(link)
            await s.flush()
            return link.id

    async def state(self, link_id: uuid.UUID) -> bool:
        async with session_scope(self.world.services.sessions) as s:
            return await s.get(BankLink, link_id) is not None


class Invoices:
    """An invoice in a household's books, numbered in its sequence; its state is its
    status."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.numbers = iter(range(1, 100))

    async def make(self, scope: str) -> uuid.UUID:
        owner, household = self.world.owner_of(scope)
        async with session_scope(self.world.services.sessions) as s:
            invoice = Invoice(
                user_id=owner,
                household_id=household,
                number=next(self.numbers),
                currency="USD",
                issued_on=today().date(),
                due_on=today().date(),
                subtotal=Decimal(60),
                total=Decimal(60),
            )
            s.add(invoice)
            await s.flush()
            return invoice.id

    async def state(self, invoice_id: uuid.UUID) -> str | None:
        async with session_scope(self.world.services.sessions) as s:
            found = await s.get(Invoice, invoice_id)
            return None if found is None else found.status.value


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


# Managing a shared project, as a shared list is managed: its owners and admins; the
# others see it and are told no.
MANAGE_ACTIONS = ["rename", "unshare", "delete"]
MANAGES = {"owner", "admin"}
managed_expected = table(
    {r: {"read"} | (set(MANAGE_ACTIONS) if r in MANAGES else set()) for r in ROLES}
)
BARE_NAMES = ["shed", "deck", "fence", "pond", "patio", "loft", "annex", "studio", "barn"]


class BareProjects:
    """Each case gets a fresh project with nothing on it (one with money is never
    deleted, whoever asks); its state is its name and household, None once gone."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.names = iter(BARE_NAMES)

    async def make(self, scope: str) -> tuple[uuid.UUID, str]:
        owner, household = self.world.owner_of(scope)
        name = next(self.names)
        async with session_scope(self.world.services.sessions) as s:
            project = Project(user_id=owner, household_id=household, name=name)
            s.add(project)
            await s.flush()
            return project.id, name

    async def state(self, handle: tuple[uuid.UUID, str]) -> tuple | None:
        async with session_scope(self.world.services.sessions) as s:
            found = await s.get(Project, handle[0])
            return None if found is None else (found.name, found.household_id)


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
        if action == "use":
            assert await FinanceService(ctx).categories(household_id)
            return "ok"
        if action == "add":
            await FinanceService(ctx).category_named(
                "Scaffolding", create=True, household_id=household_id
            )
        elif action == "import":
            await StatementImporter(ctx, household_id).import_statement(STATEMENT, account="Joint")
        else:
            data = TransactionCreate(amount=Decimal(5), merchant="Kiosk", household_id=household_id)
            await FinanceService(ctx).log(data)
        return None

    return await by_service(world, do)


async def feed_by_service(world: World, action: str, link_id: uuid.UUID):
    async def do(ctx: SkillContext) -> str | None:
        if action == "read":
            return (
                "ok"
                if link_id in {link.id for link in await BankService(ctx).links()}
                else "hidden"
            )
        await BankService(ctx).disconnect(link_id)
        return None

    return await by_service(world, do)


async def invoice_by_service(world: World, action: str, invoice_id: uuid.UUID):
    async def do(ctx: SkillContext) -> str | None:
        if action == "read":
            listed = {invoice.id for invoice in await InvoiceService(ctx).list()}
            await InvoiceService(ctx).get(invoice_id)
            assert invoice_id in listed
            return "ok"
        await InvoiceService(ctx).mark_sent(invoice_id)
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


async def managed_by_service(world: World, action: str, handle: tuple[uuid.UUID, str]):
    project_id = handle[0]

    async def do(ctx: SkillContext) -> None:
        if action == "rename":
            await ProjectService(ctx).update(project_id, ProjectUpdate(name=f"new {handle[1]}"))
        elif action == "unshare":
            await ProjectService(ctx).update(project_id, ProjectUpdate(household_id=None))
        else:
            await ProjectService(ctx).delete(project_id)

    return await by_service(world, do)


async def managed_by_rest(client: httpx.AsyncClient, world: World, action: str, handle):
    bob, url = world.token(), f"/v1/projects/{handle[0]}"
    if action == "delete":
        response = await client.delete(url, headers=bob)
    else:
        body = {"name": f"new {handle[1]}"} if action == "rename" else {"household_id": None}
        response = await client.patch(url, headers=bob, json=body)
    return by_status(response, read=False)


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
    bob, period, books = world.token(), this_month(), {"household_id": str(household_id)}
    if action == "summary":
        params = {"start": str(period.start), "end": str(period.end), **books}
        response = await client.get("/v1/transactions/summary", headers=bob, params=params)
    elif action == "use":
        response = await client.get("/v1/categories", headers=bob, params=books)
    elif action == "add":
        body = {"name": "Scaffolding"}  # "Tools" the rows' cases may have added
        response = await client.post("/v1/categories", headers=bob, params=books, json=body)
    elif action == "import":
        upload = {"file": ("march.csv", STATEMENT, "text/csv")}
        form = {"account": "Joint", **books}
        response = await client.post("/v1/imports", headers=bob, files=upload, data=form)
    else:
        body = {"amount": "5", "merchant": "Kiosk", **books}
        response = await client.post("/v1/transactions", headers=bob, json=body)
    return by_status(response, read=action in ("summary", "use"))


async def feed_by_rest(client: httpx.AsyncClient, world: World, action: str, link_id):
    bob = world.token()
    if action == "read":
        response = await client.get("/v1/bank/links", headers=bob)
        assert response.status_code == 200, response.text
        return "ok" if str(link_id) in {link["id"] for link in response.json()} else "hidden"
    return by_status(await client.delete(f"/v1/bank/links/{link_id}", headers=bob), read=False)


async def invoice_by_rest(client: httpx.AsyncClient, world: World, action: str, invoice_id):
    bob, url = world.token(), f"/v1/invoices/{invoice_id}"
    if action == "read":
        listed = await client.get("/v1/invoices", headers=bob)
        response = await client.get(url, headers=bob)
        outcome = by_status(response, read=True)
        assert (outcome == "ok") == (str(invoice_id) in {i["id"] for i in listed.json()})
        return outcome
    return by_status(await client.post(f"{url}/send", headers=bob), read=False)


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
INVOICE_OPERATIONS = {
    "read": "query($id: UUID!) { invoice(id: $id) { id } }",
    "send": "mutation($id: UUID!) { sendInvoice(id: $id) { id } }",
}
PROJECT_OPERATIONS = {
    "read": "query($id: String!) { project(ref: $id) { id } }",
    "costing": "query($id: String!) { costing(project: $id) { costs } }",
    "bill": 'mutation($id: String!) { addBillable(project: $id, input: {description: "Tiling",'
    ' quantity: "2", unitPrice: "40"}) { id } }',
}


MANAGE_OPERATIONS = {
    "rename": "mutation($id: String!, $name: String!) "
    "{ updateProject(project: $id, input: {name: $name}) { id } }",
    "unshare": "mutation($id: String!) "
    "{ updateProject(project: $id, input: {householdId: null}) { id } }",
    "delete": "mutation($id: String!) { deleteProject(project: $id) }",
}


async def managed_by_graphql(client: httpx.AsyncClient, world: World, action: str, handle):
    given = {"id": str(handle[0])} | ({"name": f"new {handle[1]}"} if action == "rename" else {})
    return await by_graphql(client, world, MANAGE_OPERATIONS[action], read=False, **given)


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


async def invoice_by_graphql(client: httpx.AsyncClient, world: World, action: str, invoice_id):
    operation = INVOICE_OPERATIONS[action]
    outcome = await by_graphql(client, world, operation, read=action == "read", id=str(invoice_id))
    if action == "read":
        listed = (await gql(client, world.token(), "{ invoices { id } }"))["data"]["invoices"]
        assert (outcome == "ok") == (str(invoice_id) in {i["id"] for i in listed})
    return outcome


async def project_by_graphql(client: httpx.AsyncClient, world: World, action: str, handle):
    operation = PROJECT_OPERATIONS[action]
    return await by_graphql(client, world, operation, read=action != "bill", id=str(handle[0]))


async def test_service_layer(world: World) -> None:
    wrong = await walk(world, Rows(world), row_by_service, ROW_ACTIONS, rows_expected)
    wrong += await walk(world, Books(world), books_by_service, BOOK_ACTIONS, books_expected)
    sets = CategorySets(world)
    wrong += await walk(world, sets, books_by_service, CATEGORY_ACTIONS, books_expected)
    projects = Projects(world)
    wrong += await walk(world, projects, project_by_service, PROJECT_ACTIONS, projects_expected)
    bare = BareProjects(world)
    wrong += await walk(world, bare, managed_by_service, MANAGE_ACTIONS, managed_expected)
    wrong += await walk(world, Feeds(world), feed_by_service, FEED_ACTIONS, feeds_expected)
    invoices = Invoices(world)
    wrong += await walk(world, invoices, invoice_by_service, INVOICE_ACTIONS, invoices_expected)
    assert wrong == []


async def test_rest(world: World, client: httpx.AsyncClient) -> None:
    async def rows(w: World, action: str, handle):
        return await row_by_rest(client, w, action, handle)

    async def books(w: World, action: str, household_id):
        return await books_by_rest(client, w, action, household_id)

    async def projects(w: World, action: str, handle):
        return await project_by_rest(client, w, action, handle)

    async def feeds(w: World, action: str, handle):
        return await feed_by_rest(client, w, action, handle)

    async def managed(w: World, action: str, handle):
        return await managed_by_rest(client, w, action, handle)

    async def invoices(w: World, action: str, handle):
        return await invoice_by_rest(client, w, action, handle)

    wrong = await walk(world, Rows(world), rows, ROW_ACTIONS, rows_expected)
    wrong += await walk(world, Books(world), books, BOOK_ACTIONS, books_expected)
    wrong += await walk(world, CategorySets(world), books, CATEGORY_ACTIONS, books_expected)
    wrong += await walk(world, Projects(world), projects, PROJECT_ACTIONS, projects_expected)
    wrong += await walk(world, BareProjects(world), managed, MANAGE_ACTIONS, managed_expected)
    wrong += await walk(world, Feeds(world), feeds, FEED_ACTIONS, feeds_expected)
    wrong += await walk(world, Invoices(world), invoices, INVOICE_ACTIONS, invoices_expected)
    assert wrong == []


async def test_graphql(world: World, client: httpx.AsyncClient) -> None:
    async def rows(w: World, action: str, handle):
        return await row_by_graphql(client, w, action, handle)

    async def books(w: World, action: str, household_id):
        return await books_by_graphql(client, w, action, household_id)

    async def projects(w: World, action: str, handle):
        return await project_by_graphql(client, w, action, handle)

    async def invoices(w: World, action: str, handle):
        return await invoice_by_graphql(client, w, action, handle)

    async def managed(w: World, action: str, handle):
        return await managed_by_graphql(client, w, action, handle)

    assert list(ROW_OPERATIONS) == ROW_ACTIONS
    assert list(MANAGE_OPERATIONS) == MANAGE_ACTIONS
    assert list(BOOK_OPERATIONS) == [a for a in BOOK_ACTIONS if a != "import"]  # no upload
    assert (list(PROJECT_OPERATIONS), list(INVOICE_OPERATIONS)) == (
        PROJECT_ACTIONS,
        INVOICE_ACTIONS,
    )
    wrong = await walk(world, Rows(world), rows, ROW_ACTIONS, rows_expected)
    wrong += await walk(world, Books(world), books, list(BOOK_OPERATIONS), books_expected)
    wrong += await walk(world, Projects(world), projects, PROJECT_ACTIONS, projects_expected)
    wrong += await walk(world, BareProjects(world), managed, MANAGE_ACTIONS, managed_expected)
    wrong += await walk(world, Invoices(world), invoices, INVOICE_ACTIONS, invoices_expected)
    assert wrong == []


def speaker_rows(role: str, action: str, scope: str) -> Outcome:
    """The speaker refuses money about the user's own and household's shops; another
    household's shop is no name of theirs, and "file Brantley under tools" is not
    understood as money at all. Either way nothing is read or written."""
    return "hidden" if scope == "other" else by_device(role, action, scope)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_conversation(world: World, client: httpx.AsyncClient, channel: str) -> None:
    speaker = channel == "speaker"
    async with talking(world, client, channel) as conversation:

        async def refile(w: World, action: str, handle):
            return by_words([await conversation().say(f"file {handle[1]} under tools")])

        async def costing(w: World, action: str, handle):
            said = f"show me the costing for the {handle[1]} project"
            reply = await conversation().say(said)
            return by_words([reply]) or ("ok" if reply.lower().startswith(handle[1]) else "hidden")

        rows = speaker_rows if speaker else rows_expected
        wrong = await walk(world, Rows(world), refile, ["recategorize"], rows)
        projects = by_device if speaker else projects_expected
        wrong += await walk(world, Projects(world), costing, ["costing"], projects)
        assert wrong == []
        await spend_on_groceries(world)
        await ask_what_we_spent(world, conversation(), speaker=speaker)


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


async def ask_what_we_spent(world: World, chat: Conversation, *, speaker: bool) -> None:
    """ "We" is the family's figure for a role that keeps its books, a refusal in words
    for the others; "I" is always one's own. A speaker tells anyone no."""
    said = await chat.say("how much did we spend on groceries this month")
    if speaker:
        assert said == SPEAKER_NO_MONEY
    elif world.role in KEEPS_THE_BOOKS:
        assert said.startswith("Family spent $52.50 on groceries ")
    else:
        assert said == f"As a {world.role} of Family, you can't see its money."
    mine = await chat.say("how much did I spend on groceries this month")
    if speaker:
        assert mine == SPEAKER_NO_MONEY
    else:
        assert mine.startswith("You spent $7.00 on groceries ")
