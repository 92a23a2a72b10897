"""Which webhook event each audited row change makes: a table of cases, and every
event the derivation can make is one a subscription can name."""

from __future__ import annotations

from typing import Any

import pytest

from skills.webhooks.events import EVENT_TYPES, derive, inverted

TASK = {"id": "t1", "user_id": "u1", "title": "milk", "status": "open"}
EVENT = {"id": "e1", "user_id": "u1", "title": "dentist", "exdates": []}
INVOICE = {"id": "i1", "user_id": "u1", "status": "draft"}


def change(table: str, before: dict | None, after: dict | None) -> dict[str, Any]:
    return {"table": table, "id": "x", "before": before, "after": after}


@pytest.mark.parametrize(
    ("table", "before", "after", "expected"),
    [
        ("tasks", None, TASK, "task.created"),
        ("tasks", TASK, TASK | {"title": "oat milk"}, "task.updated"),
        ("tasks", TASK, TASK | {"status": "done"}, "task.completed"),
        ("tasks", TASK | {"status": "done"}, TASK, "task.updated"),  # reopened
        ("tasks", TASK, None, "task.deleted"),
        ("events", None, EVENT, "event.created"),
        ("events", EVENT, EVENT | {"title": "dentist at 3"}, "event.updated"),
        ("events", EVENT, EVENT | {"exdates": ["2026-12-08T09:00:00+00:00"]}, "event.cancelled"),
        ("events", EVENT, None, "event.cancelled"),
        ("transactions", None, {"id": "x", "user_id": "u1"}, "transaction.created"),
        ("transactions", {"id": "x"}, {"id": "x", "amount": "3"}, None),
        ("invoices", None, INVOICE, None),  # a draft is nobody's news yet
        ("invoices", INVOICE, INVOICE | {"status": "sent"}, "invoice.sent"),
        ("invoices", INVOICE | {"status": "sent"}, INVOICE | {"status": "paid"}, "invoice.paid"),
        ("lists", None, {"id": "l1"}, None),
    ],
)
def test_derived_event(table: str, before: dict | None, after: dict | None, expected: str) -> None:
    found = derive(change(table, before, after))
    assert (found.type if found else None) == expected
    if found is not None:
        assert found.type in EVENT_TYPES
        assert found.row == (after if after is not None else before)


def test_undo_reports_each_change_backwards() -> None:
    made = [change("tasks", None, TASK), change("tasks", TASK, TASK | {"status": "done"})]
    undone = [derive(c) for c in inverted(made)]
    assert [(c.type, c.row["status"]) for c in undone if c] == [
        ("task.updated", "open"),
        ("task.deleted", "open"),
    ]
