"""Projects and invoices through /graphql: the same services as /v1/projects and
/v1/invoices, so what one API does the other shows, a role that may not touch a
household's money is refused with REST's 403, and undo takes a payment back."""

from __future__ import annotations

import httpx

from agent.services import Services
from tests.agent.graphql_client import family_member, gql

PROJECT = """mutation($p: ProjectInput!) { createProject(input: $p) { id name householdId } }"""
BILL = """mutation($project: String!, $work: BillableInput!) {
  addBillable(project: $project, input: $work) { description quantity unitPrice invoiceId }
}"""
INVOICE = """mutation($i: InvoiceInput!) {
  createInvoice(input: $i) { id number status subtotal tax total lines { description amount } }
}"""


async def bill_a_deck(client: httpx.AsyncClient, auth: dict) -> dict:
    """Ann's "Deck" job at $95 an hour, 12.5 hours of framing and $1,840 of cedar on it,
    invoiced at 7 % tax: all through GraphQL."""
    made = await gql(
        client, auth, PROJECT, p={"name": "Deck", "client": "Ms. Alvarez", "hourlyRate": "95"}
    )
    assert made["data"]["createProject"]["name"] == "Deck", made
    for work in (
        {"description": "Framing labour", "quantity": "12.5"},
        {"description": "Cedar boards", "unitPrice": "1840.00"},
    ):
        logged = await gql(client, auth, BILL, project="deck", work=work)
        assert logged["data"]["addBillable"]["invoiceId"] is None, logged
    invoiced = await gql(client, auth, INVOICE, i={"project": "Deck", "taxRate": "0.07"})
    assert "errors" not in invoiced, invoiced
    return invoiced["data"]["createInvoice"]


async def test_an_invoice_made_sent_and_paid_over_graphql_shows_so_over_rest(
    client: httpx.AsyncClient, auth: dict
) -> None:
    invoice = await bill_a_deck(client, auth)
    assert (invoice["number"], invoice["status"], invoice["total"]) == (1, "DRAFT", "3239.43")
    assert [line["amount"] for line in invoice["lines"]] == ["1187.50", "1840.00"]
    billed = (await client.get("/v1/projects/deck/billables?open_only=true", headers=auth)).json()
    assert billed == []  # both items are on the invoice now

    sent = await gql(
        client, auth, "mutation($id: UUID!) { sendInvoice(id: $id) { status } }", id=invoice["id"]
    )
    assert sent["data"]["sendInvoice"]["status"] == "SENT"
    rest = (await client.get(f"/v1/invoices/{invoice['id']}", headers=auth)).json()
    assert rest["status"] == "sent" and rest["sent_at"] is not None

    paid = await gql(
        client,
        auth,
        'mutation($id: UUID!) { markInvoicePaid(id: $id, paidOn: "2030-06-01") { status } }',
        id=invoice["id"],
    )
    assert paid["data"]["markInvoicePaid"]["status"] == "PAID"
    [income] = (await client.get("/v1/transactions?kind=income", headers=auth)).json()
    assert (income["amount"], income["occurred_on"], income["project"]) == (
        "3239.43",
        "2030-06-01",
        "Deck",
    )
    costing = await gql(client, auth, '{ costing(project: "deck") { revenue invoiced } }')
    assert costing["data"]["costing"] == {"revenue": "3239.43", "invoiced": "3239.43"}

    # A paid invoice cannot be voided: refused as REST refuses it, nothing changed.
    void = await gql(
        client, auth, "mutation($id: UUID!) { voidInvoice(id: $id) { status } }", id=invoice["id"]
    )
    [error] = void["errors"]
    assert error["message"] == "invoice 1 is paid; it cannot be marked void"
    assert error["extensions"]["status"] == 422

    # Undo takes the payment back, whichever API asks: the income goes, the invoice is sent.
    undone = await gql(client, auth, "mutation { undo { undid } }")
    assert undone["data"]["undo"] == {"undid": "finance.invoice_paid"}
    assert (await client.get("/v1/transactions?kind=income", headers=auth)).json() == []
    rest = (await client.get(f"/v1/invoices/{invoice['id']}", headers=auth)).json()
    assert rest["status"] == "sent"

    nothing = await gql(client, auth, INVOICE, i={"project": "deck"})
    [error] = nothing["errors"]
    assert (error["message"], error["extensions"]["status"]) == (
        "there is nothing left to bill on “Deck”",
        422,
    )


async def test_a_void_invoice_keeps_its_number_and_a_stranger_cannot_touch_it(
    client: httpx.AsyncClient, auth: dict, intruder: dict
) -> None:
    invoice = await bill_a_deck(client, auth)
    for name in ("sendInvoice", "markInvoicePaid", "voidInvoice"):
        theirs = await gql(
            client,
            intruder,
            f"mutation($id: UUID!) {{ {name}(id: $id) {{ status }} }}",
            id=invoice["id"],
        )
        assert theirs["errors"][0]["extensions"]["status"] == 404, theirs
    voided = await gql(
        client, auth, "mutation($id: UUID!) { voidInvoice(id: $id) { status } }", id=invoice["id"]
    )
    assert voided["data"]["voidInvoice"]["status"] == "VOID"
    listed = (await client.get("/v1/invoices", headers=auth)).json()
    assert [(i["number"], i["status"]) for i in listed] == [(1, "void")]


async def test_a_viewer_is_refused_a_shared_projects_money_and_keeps_nothing_of_the_operation(
    client: httpx.AsyncClient, services: Services, auth: dict
) -> None:
    bob, family, _ = await family_member(client, services, auth, "viewer")
    shared = await gql(
        client, auth, PROJECT, p={"name": "Attic", "householdId": family, "hourlyRate": "50"}
    )
    assert shared["data"]["createProject"]["householdId"] == family

    # Bob sees the family's job, but may neither bill it nor start one in the family.
    assert (await gql(client, bob, '{ project(ref: "attic") { name } }'))["data"] == {
        "project": {"name": "Attic"}
    }
    refused = await gql(
        client,
        bob,
        """mutation($family: UUID!) {
             mine: createProject(input: {name: "Shed"}) { id }
             bill: addBillable(project: "attic", input: {description: "Sanding"}) { id }
             start: createProject(input: {name: "Garage", householdId: $family}) { id }
           }""",
        family=family,
    )
    [error] = refused["errors"]
    assert error["path"] == ["bill"] and error["extensions"]["status"] == 403
    assert error["message"] == "as a viewer of Family, you can't change the money of Attic"
    # The operation is one unit of work: his own project, allowed alone, was not kept.
    assert [p["name"] for p in (await client.get("/v1/projects", headers=bob)).json()] == ["Attic"]
    assert (await client.get("/v1/projects/attic/billables", headers=auth)).json() == []

    start = await gql(
        client,
        bob,
        'mutation($f: UUID!) { createProject(input: {name: "Garage", householdId: $f}) { id } }',
        f=family,
    )
    assert start["errors"][0]["extensions"]["status"] == 403, start
