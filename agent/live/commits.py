"""Change notices from the audit log, published once the change is committed.

Every change writes its AuditEntry in the same transaction (skills/history.py), with
a snapshot of each row before and after. A flush collects the notices those entries
describe; a commit publishes them; a rollback forgets them. So a notice never tells
of a change that did not happen, and every channel (REST, GraphQL, voice, SMS, the
phone, the CLI, the scheduler) is covered without any of them knowing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from agent.live.bus import Broadcaster, ChangeNotice
from store.models import AuditEntry

PENDING = "lifeos_change_notices"


def publish_commits(
    sessions: async_sessionmaker[AsyncSession], bus: Callable[[], Broadcaster]
) -> None:
    """Make every session of ``sessions`` publish its committed changes to ``bus()``.

    A session class of its own per factory, so two services in one process (tests)
    never publish each other's changes."""
    watched = type("PublishingSession", (AsyncSession.sync_session_class,), {})

    def collect(session: Session, _context: Any) -> None:
        found = session.info.setdefault(PENDING, {})
        for notice in _notices(session):
            found[(notice.kind, notice.id, notice.action)] = notice

    def publish(session: Session) -> None:
        found: dict[Any, ChangeNotice] = session.info.pop(PENDING, {})
        for notice in found.values():
            bus().publish(notice)

    def forget(session: Session) -> None:
        session.info.pop(PENDING, None)

    event.listen(watched, "after_flush", collect)
    event.listen(watched, "after_commit", publish)
    event.listen(watched, "after_rollback", forget)
    sessions.configure(sync_session_class=watched)


def _notices(session: Session) -> Iterator[ChangeNotice]:
    for entry in session.new:
        if isinstance(entry, AuditEntry) and entry.action != "undo":
            yield from notices_of(entry, None)
    for entry in session.dirty:  # undo marks the entry it reverses
        if isinstance(entry, AuditEntry) and entry.meta.get("undone"):
            yield from notices_of(entry, "undone")


def notices_of(entry: AuditEntry, action: str | None) -> Iterator[ChangeNotice]:
    """The rows an audit entry changed, each as a notice; an entry that changed no
    undoable rows (a household's membership, say) as one notice of its resource."""
    actor = str(entry.user_id)
    changes: Iterable[dict[str, Any]] = entry.meta.get("changes") or []
    for change in changes:
        states = [row for row in (change["after"], change["before"]) if row]
        verb = "created" if change["before"] is None else "updated"
        yield ChangeNotice(
            kind=change["table"],
            id=change["id"],
            action=action or ("deleted" if change["after"] is None else verb),
            owner_id=str(states[0].get("user_id") or actor) if states else actor,
            actor_id=actor,
            household_ids=_distinct(row.get("household_id") for row in states),
            list_ids=_distinct(row.get("list_id") for row in states),
        )
    for table in entry.meta.get("added") or {}:
        yield ChangeNotice(table, None, action or "imported", actor, actor)
    if not changes and not entry.meta.get("added"):
        yield ChangeNotice(
            entry.resource_type, entry.resource_id, action or entry.action, actor, actor
        )


def _distinct(values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(v) for v in values if v))
