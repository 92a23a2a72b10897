"""The audit log as a history of changes, and undo.

Every action records what it changed (a snapshot of each row before and after) in
one audit row, in the same transaction as the change. Undo replays the latest
not-yet-undone entry backwards, so it works across sessions and channels.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select

from skills import access, members
from skills.access import Capability
from skills.bulk import delete_rows
from skills.context import Conflict, SkillContext, SkillError, name_of
from store.models import (
    Account,
    AuditEntry,
    BillableItem,
    Category,
    CategoryRule,
    Event,
    Household,
    Invitation,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Membership,
    Project,
    Reminder,
    Task,
    TaskList,
    Transaction,
    User,
)
from store.repositories import audit
from store.types import encode_json

UNDOABLE_TABLES: dict[str, type[SQLModel]] = {
    model.__tablename__: model  # type: ignore[misc]
    for model in (
        Task,
        TaskList,
        Project,
        Event,
        Reminder,
        Account,
        Category,
        CategoryRule,
        Transaction,
        Invoice,
        InvoiceLine,
        BillableItem,
        Household,
        Membership,
        Invitation,
    )
}

# The money tables (expenses, income, accounts, categories, invoices, billables):
# undoing a change to them moves money as much as making it did.
MONEY_TABLES = frozenset(
    name for name, model in UNDOABLE_TABLES.items() if model.__module__ == "store.models.finance"
)


# Kept out of the audit log: an invitation code's hash would outlive the code there,
# and undo only ever withdraws an invitation, by its id.
_UNRECORDED: dict[str, set[str]] = {"invitations": {"code_hash"}}


def snapshot(record: SQLModel) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude=_UNRECORDED.get(record.__tablename__))  # type: ignore[attr-defined]


@dataclass
class ChangeSet:
    """What one action changed, row by row, in the order it happened."""

    changes: list[dict[str, Any]] = field(default_factory=list)

    def created(self, record: SQLModel) -> None:
        self._add(record, None, snapshot(record))

    def updated(self, record: SQLModel, before: dict[str, Any]) -> None:
        after = snapshot(record)
        if after != before:
            self._add(record, before, after)

    def deleted(self, record: SQLModel) -> None:
        self._add(record, snapshot(record), None)

    def _add(self, record: SQLModel, before: dict | None, after: dict | None) -> None:
        table = record.__tablename__  # type: ignore[attr-defined]
        self.changes.append(
            {"table": table, "id": str(record.id), "before": before, "after": after}
        )  # type: ignore[attr-defined]

    def __bool__(self) -> bool:
        return bool(self.changes)


def record_action(
    ctx: SkillContext,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | None,
    changes: ChangeSet,
    **facts: Any,
) -> AuditEntry:
    """Write the audit row for an action; it commits or rolls back with the change."""
    meta = _audit_meta(changes, facts)
    return audit.record(
        ctx.session, ctx.user_id, action, resource_type, resource_id, meta=meta, ip=ctx.ip
    )


async def record_bulk_action(
    ctx: SkillContext,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | None,
    changes: ChangeSet,
    *,
    added: dict[str, list[uuid.UUID]],
    **facts: Any,
) -> AuditEntry:
    """``record_action`` for an import: the thousands of rows it added are recorded by
    id only (undo deletes them in batches), the few it changed row by row. A snapshot
    of every added row made the audit row megabytes of JSON, and building, encoding
    and replaying it held up everyone else; the ids are a single quick encoding."""
    meta = _audit_meta(changes, facts)
    meta["added"] = {table: [str(i) for i in ids] for table, ids in added.items() if ids}
    encoded = await encode_json(meta)
    return audit.record(
        ctx.session, ctx.user_id, action, resource_type, resource_id, meta=encoded, ip=ctx.ip
    )


# The audit row's own keys: a fact of the same name would be taken for them (undo
# and the live notices read "added" as an import's ids by table).
RESERVED_FACTS = frozenset({"changes", "added", "undone"})


def _audit_meta(changes: ChangeSet, facts: dict[str, Any]) -> dict[str, Any]:
    """What undo replays: the action's facts for the reply, and every row it changed."""
    if clash := RESERVED_FACTS & facts.keys():
        raise ValueError(f"an action's facts may not be named {sorted(clash)}")
    return {**facts, "changes": changes.changes, "undone": False}


@dataclass(frozen=True)
class Undone:
    action: str  # the action that was reversed, e.g. "tasks.create"
    facts: dict[str, Any]  # what that action reported, for the reply


async def undo_last(ctx: SkillContext) -> Undone:
    """Reverse the user's most recent change that has not been undone yet."""
    entry = await _latest_undoable(ctx)
    if entry is None:
        raise SkillError("there is nothing to undo")
    _within_reach(ctx, entry)
    someone = await _changed_since_by_another(ctx, entry)
    if someone is not None:
        what = entry.meta.get("title") or entry.meta.get("name") or "it"
        raise SkillError(f"{someone} has changed {what} since, so I left it as it is")
    touches_members = bool(_tables(entry) & members.MEMBER_TABLES)
    if touches_members:  # the household's own rules, rather than a row's
        await members.check_undo(ctx, entry)
    for change in reversed(entry.meta["changes"]):
        await _revert(ctx, change)
    if touches_members:
        access.forget_memberships(ctx)
    for table, ids in entry.meta.get("added", {}).items():  # an import's rows, by id
        await delete_rows(ctx.session, UNDOABLE_TABLES[table], ctx.user_id, _ids(ids))
    # Reassigned (JSON columns track whole values), and encoded in a thread: an
    # import's entry lists every row it added.
    entry.meta = await encode_json({**entry.meta, "undone": True})
    ctx.session.add(entry)
    audit.record(
        ctx.session,
        ctx.user_id,
        "undo",
        entry.resource_type,
        entry.resource_id,
        meta={"undid": str(entry.id), "action": entry.action},
        ip=ctx.ip,
    )
    await ctx.session.flush()
    facts = {k: v for k, v in entry.meta.items() if k not in ("changes", "added", "undone")}
    return Undone(entry.action, facts)


async def check_undo_reach(ctx: SkillContext) -> None:
    """Raise AccessDenied, in words, when the device acting may not take back the
    user's last change (a speaker: an expense logged in the app), before it is asked."""
    if ctx.reach is None:
        return
    entry = await _latest_undoable(ctx)
    if entry is not None:
        _within_reach(ctx, entry)


def _within_reach(ctx: SkillContext, entry: AuditEntry) -> None:
    for table in sorted(_tables(entry)):
        access.within_reach(ctx, _WRITE_NEEDS[table])


async def undo_touches_money(ctx: SkillContext) -> bool:
    """Would undo now change money (take back an expense, an invoice, an import…)?"""
    entry = await _latest_undoable(ctx)
    if entry is None:
        return False
    return bool(_tables(entry) & MONEY_TABLES)


def _tables(entry: AuditEntry) -> set[str]:
    """The tables an audit entry changed, which undoing it changes again."""
    tables = {change["table"] for change in entry.meta.get("changes") or []}
    tables.update(entry.meta.get("added") or {})
    return tables


async def _latest_undoable(ctx: SkillContext) -> AuditEntry | None:
    rows = await ctx.session.exec(
        select(AuditEntry)
        .where(AuditEntry.user_id == ctx.user_id, AuditEntry.action != "undo")
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(50)
    )
    for entry in rows:
        changed = entry.meta.get("changes") or entry.meta.get("added")
        if changed and not entry.meta.get("undone"):
            return entry
    return None


async def _changed_since_by_another(ctx: SkillContext, entry: AuditEntry) -> str | None:
    """Who else in the user's households changed a row of this entry after it, if
    anyone: undo takes back only one's own change, never over someone else's."""
    ids = {change["id"] for change in entry.meta.get("changes", [])}
    households = list(await access.memberships(ctx))
    if not ids or not households:
        return None
    housemates = select(Membership.user_id).where(
        col(Membership.household_id).in_(households), Membership.user_id != ctx.user_id
    )
    later = await ctx.session.exec(
        select(AuditEntry)
        .where(col(AuditEntry.at) >= entry.at, col(AuditEntry.user_id).in_(housemates))
        .order_by(col(AuditEntry.at))
        .limit(200)
    )
    for other in later:
        if other.meta.get("undone"):
            continue
        if any(change["id"] in ids for change in other.meta.get("changes", [])):
            user = await ctx.session.get(User, other.user_id)
            return name_of(user)
    return None


# What changing a row of each table takes, and so undoing a change to it: asked of
# the device acting (a speaker may not take back an expense) for every row.
_WRITE_NEEDS: dict[str, Capability] = {
    "tasks": Capability.LISTS_EDIT,
    "lists": Capability.LISTS_MANAGE,
    "reminders": Capability.LISTS_EDIT,
    "events": Capability.CALENDAR_WRITE,
    "projects": Capability.PROJECTS_MANAGE,  # as renaming, sharing or deleting one does
    **dict.fromkeys(MONEY_TABLES, Capability.MONEY_WRITE),
    "households": Capability.MEMBERS_MANAGE,
    "memberships": Capability.MEMBERS_MANAGE,
    "invitations": Capability.MEMBERS_INVITE,
}
_NOUNS = {
    "events": ("event", "calendar"),
    "transactions": ("transaction", "books"),
    "categories": ("category", "books"),
    "category_rules": ("category rule", "books"),
    "invoices": ("invoice", "books"),
}
if set(_WRITE_NEEDS) != set(UNDOABLE_TABLES):  # a new undoable table must say what it takes
    raise RuntimeError(f"say what a change takes in: {set(UNDOABLE_TABLES) - set(_WRITE_NEEDS)}")
# The tables whose rows may be shared (a household's books hold its category set,
# rules and invoices), where the user's role decides too; any other row must be one's own.
_SHARED_TABLES = ("tasks", "lists", "projects", "events", *_NOUNS)
_UNDO_NEEDS = {t: _WRITE_NEEDS[t] for t in dict.fromkeys(_SHARED_TABLES)}


async def _check_may_revert(ctx: SkillContext, table: str, current: SQLModel) -> None:
    needs = _UNDO_NEEDS.get(table)
    if needs is None:
        if getattr(current, "user_id", None) != ctx.user_id:
            raise SkillError("that change belongs to another user")  # never via our writes
        return
    noun, what = _NOUNS.get(table, ("task", "task"))
    if table == "tasks" or table == "lists":
        list_id = current.id if isinstance(current, TaskList) else getattr(current, "list_id", None)
        on = await ctx.session.get(TaskList, list_id) if list_id else None
        noun, what = "task", f"{on.name} list" if on else "task"
    elif isinstance(current, Project):
        noun, what = "project", f"{current.name} project"
    await access.require(ctx, current, needs, noun=noun, what=what, doing="undo changes to")


def _ids(values: list[str]) -> list[uuid.UUID]:
    return [uuid.UUID(value) for value in values]


async def _revert(ctx: SkillContext, change: dict[str, Any]) -> None:
    model = UNDOABLE_TABLES[change["table"]]
    record_id = uuid.UUID(change["id"])
    current = await ctx.session.get(model, record_id)
    if current is not None and change["table"] not in members.MEMBER_TABLES:
        await _check_may_revert(ctx, change["table"], current)
    before = change["before"]
    if before is None and model is Invoice:
        # An issued number is never taken back or reused: undoing an invoice voids it.
        if current is not None:
            current.status = InvoiceStatus.VOID
            ctx.session.add(current)
    elif before is None:  # it was created: remove it
        if current is not None:
            await ctx.session.delete(current)
    elif current is None:  # it was deleted: put it back as it was
        await _put_back(ctx, model.model_validate(before))
    else:  # it was changed: restore every field
        restored = model.model_validate(before)
        for name in model.model_fields:
            setattr(current, name, getattr(restored, name))
        ctx.session.add(current)
    await ctx.session.flush()


async def _put_back(ctx: SkillContext, record: SQLModel) -> None:
    """Restore a deleted row, unless another has taken its place since (a project
    or list of the same name made after it was deleted)."""
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(record)
    except IntegrityError:
        raise Conflict(
            "another of the same name has been made since, so I left it as it is"
        ) from None
