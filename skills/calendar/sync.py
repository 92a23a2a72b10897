"""Two-way sync with a CalDAV calendar, keyed by UID and guarded by ETags.

Each synced event remembers the remote UID, the ETag it last saw, the resource's
address and when it was last in step. A sync then knows, per event, which side
changed: a new ETag means the server changed it, a newer local ``updated_at``
means we did. Deleted synced events leave a tombstone until the server agrees.
Repeating a sync with no changes does nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlmodel import col, select

from skills.calendar.ical import ParsedEvent, parse_calendar, to_calendar
from skills.calendar.importing import IMPORTED
from skills.context import NotFound, SkillContext, SkillError
from skills.history import ChangeSet, record_action, snapshot
from skills.sealing import seal, unseal
from store.models import CalendarAccount, CalendarTombstone, Event
from store.repositories import audit

if TYPE_CHECKING:
    from skills.calendar.remote import RemoteCalendar, RemoteObject

RemoteFactory = Callable[[str, str, str], "RemoteCalendar"]


def caldav_calendar(url: str, username: str, password: str) -> RemoteCalendar:
    # Imported on first use: the caldav client costs ~0.4 s to import.
    from skills.calendar.remote import RemoteCalendar

    return RemoteCalendar(url, username, password)


@dataclass
class SyncReport:
    pulled: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "deleted": 0}
    )
    pushed: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "deleted": 0}
    )
    error: str | None = None  # set when the server failed part-way; what was done is kept


class CalendarSync:
    def __init__(self, ctx: SkillContext, remote: RemoteFactory = caldav_calendar) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self._remote = remote

    # --- the account -------------------------------------------------------

    async def connect(self, url: str, username: str, password: str) -> CalendarAccount:
        """Check the calendar answers with these credentials, then keep them (sealed)."""
        async with self._remote(url, username, password) as remote:
            await remote.objects()
        account = await self._account_or_none() or CalendarAccount(
            user_id=self.ctx.user_id, url=url, username=username, password_sealed=""
        )
        account.url, account.username = remote.url, username
        account.password_sealed = seal(self.ctx, password)
        account.last_synced_at = None
        account.updated_at = self.ctx.now()
        self.session.add(account)
        await self.session.flush()
        audit.record(
            self.session,
            self.ctx.user_id,
            "calendar.connect",
            "calendar_account",
            account.id,
            meta={"url": account.url, "username": username},
            ip=self.ctx.ip,
        )
        return account

    async def account(self) -> CalendarAccount:
        account = await self._account_or_none()
        if account is None:
            raise NotFound("no CalDAV calendar is set up")
        return account

    async def disconnect(self) -> None:
        account = await self.account()
        await self.session.delete(account)
        await self.session.flush()
        audit.record(
            self.session,
            self.ctx.user_id,
            "calendar.disconnect",
            "calendar_account",
            account.id,
            meta={"url": account.url},
            ip=self.ctx.ip,
        )

    async def _account_or_none(self) -> CalendarAccount | None:
        found = await self.session.exec(
            select(CalendarAccount).where(CalendarAccount.user_id == self.ctx.user_id)
        )
        return found.first()

    # --- syncing -------------------------------------------------------------

    async def sync(self) -> SyncReport:
        account = await self.account()
        report = SyncReport()
        changes = ChangeSet()
        password = unseal(self.ctx, account.password_sealed)
        async with self._remote(account.url, account.username, password) as remote:
            remote_objects = await remote.objects()  # read first: a dead server changes nothing
            try:
                await self._run(remote, remote_objects, report, changes)
            except SkillError as exc:
                report.error = str(exc)
        account.last_synced_at = self.ctx.now()
        self.session.add(account)
        record_action(
            self.ctx,
            "calendar.sync",
            "calendar",
            account.id,
            changes,
            pulled=report.pulled,
            pushed=report.pushed,
            error=report.error,
        )
        await self.session.flush()
        return report

    async def _run(
        self,
        remote: RemoteCalendar,
        objects: list[RemoteObject],
        report: SyncReport,
        changes: ChangeSet,
    ) -> None:
        local = await self._linked_events()
        remote_by_uid: dict[str, tuple[RemoteObject, list[ParsedEvent]]] = {}
        for item in objects:
            parsed = parse_calendar(item.data, self.ctx.settings.timezone)
            master = next((p for p in parsed if p.recurrence_id is None), None)
            if master is not None:
                remote_by_uid[master.uid] = (item, parsed)

        await self._push_deletions(remote, remote_by_uid, local, report)
        for uid, (item, parsed) in remote_by_uid.items():
            event = local.get(uid)
            if event is None:
                await self._pull(item, parsed, None, changes)
                report.pulled["created"] += 1
            elif event.external_etag != item.etag:
                if self._changed_here(event) and self._local_is_newer(event, parsed):
                    await self._push(remote, event, item.href, item.etag)
                    report.pushed["updated"] += 1
                else:
                    await self._pull(item, parsed, event, changes)
                    report.pulled["updated"] += 1
            elif self._changed_here(event):
                await self._push(remote, event, item.href, item.etag)
                report.pushed["updated"] += 1

        for uid, event in local.items():
            if uid in remote_by_uid or event.meta.get("derived_from"):
                continue
            if event.external_etag is None:  # never synced: new here
                await self._push(remote, event, None, None)
                report.pushed["created"] += 1
            elif self._changed_here(event):  # deleted there but edited here: keep the edit
                event.meta = {k: v for k, v in event.meta.items() if k != "caldav_href"}
                await self._push(remote, event, None, None)
                report.pushed["created"] += 1
            else:  # synced before, gone from the server: deleted there
                await self._delete_local(event, changes)
                report.pulled["deleted"] += 1

    async def _linked_events(self) -> dict[str, Event]:
        events = await self.session.exec(select(Event).where(Event.user_id == self.ctx.user_id))
        linked = {}
        for event in events:
            if event.external_uid is None:
                event.external_uid = f"{event.id}@lifeos"
                self.session.add(event)
            linked[event.external_uid] = event
        return linked

    def _changed_here(self, event: Event) -> bool:
        return event.meta.get("synced_fingerprint") != fingerprint(event)

    def _local_is_newer(self, event: Event, parsed: list[ParsedEvent]) -> bool:
        modified = parsed[0].last_modified
        return modified is not None and event.updated_at > modified

    async def _push(
        self, remote: RemoteCalendar, event: Event, href: str | None, etag: str | None
    ) -> None:
        data = to_calendar([event]).to_ical().decode()
        saved = await remote.put(data, href or event.meta.get("caldav_href"), etag)
        self._mark_synced(event, saved.href, saved.etag)
        await self.session.flush()

    async def _pull(
        self, item: RemoteObject, parsed: list[ParsedEvent], event: Event | None, changes: ChangeSet
    ) -> None:
        master = next(p for p in parsed if p.recurrence_id is None)
        overrides = [p for p in parsed if p.recurrence_id is not None]
        master.fields["exdates"] = sorted(
            {*master.fields["exdates"], *(p.recurrence_id.isoformat() for p in overrides)}  # type: ignore[union-attr]
        )
        await self._drop_derived(master.uid, changes)
        event = await self._upsert(master.uid, master.fields, event, changes, item)
        for override in overrides:
            fields = {**override.fields, "recurrence": None, "exdates": []}
            derived = await self._upsert(
                f"{master.uid}#{override.recurrence_id.isoformat()}",
                fields,
                None,
                changes,
                item,  # type: ignore[union-attr]
            )
            derived.meta = {**derived.meta, "derived_from": master.uid}

    async def _upsert(
        self, uid: str, fields: dict, event: Event | None, changes: ChangeSet, item: RemoteObject
    ) -> Event:
        if event is None:
            event = Event(user_id=self.ctx.user_id, external_uid=uid, **fields)
            self._mark_synced(event, item.href, item.etag)
            self.session.add(event)
            await self.session.flush()
            changes.created(event)
            return event
        before = snapshot(event)
        for name, value in fields.items():
            setattr(event, name, value)
        self._mark_synced(event, item.href, item.etag)
        self.session.add(event)
        await self.session.flush()
        changes.updated(event, before)
        return event

    async def _drop_derived(self, uid: str, changes: ChangeSet) -> None:
        derived = await self.session.exec(
            select(Event).where(
                Event.user_id == self.ctx.user_id, col(Event.external_uid).startswith(f"{uid}#")
            )
        )
        for event in derived:
            await self._delete_local(event, changes)

    async def _delete_local(self, event: Event, changes: ChangeSet) -> None:
        changes.deleted(event)
        await self.session.delete(event)
        await self.session.flush()

    async def _push_deletions(
        self,
        remote: RemoteCalendar,
        remote_by_uid: dict,
        local: dict[str, Event],
        report: SyncReport,
    ) -> None:
        tombstones = await self.session.exec(
            select(CalendarTombstone).where(CalendarTombstone.user_id == self.ctx.user_id)
        )
        for tombstone in tombstones:
            uid = tombstone.external_uid
            if uid in remote_by_uid and uid not in local:  # not restored here by an undo
                await remote.delete(remote_by_uid.pop(uid)[0].href)
                report.pushed["deleted"] += 1
            await self.session.delete(tombstone)
            await self.session.flush()

    def _mark_synced(self, event: Event, href: str, etag: str | None) -> None:
        event.external_etag = etag
        event.updated_at = self.ctx.now()
        event.meta = {**event.meta, "caldav_href": href, "synced_fingerprint": fingerprint(event)}


def fingerprint(event: Event) -> str:
    """What the event says, without bookkeeping: equal fingerprints mean no edit."""
    said = event.model_dump(mode="json", include=set(IMPORTED))
    return hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()
