"""The calendar of one user: events, repeating events, conflicts, free time, iCalendar."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import col, select

from skills import access
from skills.access import Capability
from skills.bulk import insert_rows
from skills.calendar.expansion import Expansion, Occurrence, expand
from skills.calendar.ical import to_calendar
from skills.calendar.importing import IMPORTED, plan_import
from skills.calendar.schemas import (
    Conflict,
    EventCreate,
    EventInstance,
    EventPublic,
    EventUpdate,
    FreeSlot,
    SlotRequest,
    TimeRange,
)
from skills.calendar.slots import Interval, rank_slots, working_windows
from skills.calendar.sync import CalendarSync, SyncReport
from skills.context import NotFound, SkillContext, SkillError
from skills.history import ChangeSet, record_action, record_bulk_action, snapshot
from skills.offload import in_worker, unpack
from skills.recurrence import normalize_rule
from skills.types import TIME_LIMITS, check_time
from store.models import CalendarTombstone, Event
from store.models.users import validate_timezone

MAX_CONFLICTS = 1_000  # pairs: long overlapping repeats could otherwise make millions


def public(event: Event) -> EventPublic:
    return EventPublic.model_validate(event.model_dump())


def instance(occurrence: Occurrence) -> EventInstance:
    event = occurrence.event
    return EventInstance(
        event_id=event.id,
        title=event.title,
        start_at=occurrence.start_at,
        end_at=occurrence.end_at,
        all_day=event.all_day,
        location=event.location,
        recurring=bool(event.recurrence),
    )


class CalendarService:
    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx
        self.session = ctx.session

    # --- events ------------------------------------------------------------

    async def create_event(self, data: EventCreate, *, external_uid: str | None = None) -> Event:
        zone = self._zone(data.timezone)
        assert data.end_at is not None  # EventCreate fills it in
        if data.household_id is not None:
            await access.require_household(
                self.ctx, data.household_id, Capability.CALENDAR_WRITE, doing="add to its calendar"
            )
        event = Event(
            user_id=self.ctx.user_id,
            household_id=data.household_id,
            title=data.title,
            start_at=data.start_at,
            end_at=data.end_at,
            all_day=data.all_day,
            timezone=zone,
            description=data.description,
            location=data.location,
            attendees=data.attendees,
            recurrence=self._rule(data.recurrence, data.start_at, zone),
            alert_minutes=data.alert_minutes,
            external_uid=external_uid,
        )
        self.session.add(event)
        await self.session.flush()
        changes = ChangeSet()
        changes.created(event)
        record_action(
            self.ctx,
            "calendar.create",
            "event",
            event.id,
            changes,
            title=event.title,
            start_at=event.start_at.isoformat(),
        )
        return event

    async def get(
        self, event_id: uuid.UUID, capability: Capability = Capability.CALENDAR_READ
    ) -> Event:
        """An event of the user's own or on a household calendar their role lets them
        see (and, asked for, change); any other is NotFound."""
        event = await self.session.get(Event, event_id)
        if event is None:
            raise NotFound("no such event")
        await access.require(
            self.ctx, event, capability, noun="event", what="calendar", doing="change"
        )
        return event

    async def update_event(self, event_id: uuid.UUID, data: EventUpdate) -> Event:
        event = await self.get(event_id, Capability.CALENDAR_WRITE)
        if "household_id" in data.model_fields_set:
            await access.require(
                self.ctx,
                event,
                Capability.CALENDAR_MANAGE,
                noun="event",
                what="calendar",
                doing="take events off",
            )
            if data.household_id is not None:
                await access.require_household(
                    self.ctx,
                    data.household_id,
                    Capability.CALENDAR_WRITE,
                    doing="add to its calendar",
                )
        before = snapshot(event)
        sent = data.model_fields_set
        if "start_at" in sent and data.start_at and "end_at" not in sent:
            # Moving an event keeps its length.
            try:
                event.end_at = check_time(data.start_at + (event.end_at - event.start_at))
            except (OverflowError, ValueError) as exc:
                raise SkillError(f"the event would end too late: {TIME_LIMITS}") from exc
        for name in (
            "title",
            "start_at",
            "end_at",
            "all_day",
            "description",
            "location",
            "attendees",
            "alert_minutes",
            "household_id",
        ):
            if name in sent:
                value = getattr(data, name)
                if value is None and name in ("title", "start_at", "end_at", "all_day"):
                    raise SkillError(f"{name} cannot be empty")
                setattr(event, name, value if value is not None or name != "attendees" else [])
        if "timezone" in sent:
            event.timezone = self._zone(data.timezone)
        if "recurrence" in sent:
            event.recurrence = data.recurrence
        event.recurrence = self._rule(event.recurrence, event.start_at, event.timezone)
        if event.end_at <= event.start_at:
            raise SkillError("the event must end after it starts")
        event.updated_at = self.ctx.now()
        self.session.add(event)
        await self.session.flush()
        changes = ChangeSet()
        changes.updated(event, before)
        record_action(
            self.ctx,
            "calendar.update",
            "event",
            event.id,
            changes,
            title=event.title,
            start_at=event.start_at.isoformat(),
        )
        return event

    async def delete_event(self, event_id: uuid.UUID, occurrence: datetime | None = None) -> Event:
        """Delete an event, or with ``occurrence`` only that instance of a repeating one."""
        event = await self.get(event_id, Capability.CALENDAR_WRITE)
        changes = ChangeSet()
        if occurrence is not None:
            if not event.recurrence:
                raise SkillError("only a repeating event has single occurrences to cancel")
            found = await expand(
                [event], occurrence - timedelta(seconds=1), occurrence + timedelta(seconds=1)
            )
            if found.skipped:
                raise SkillError(found.skipped[0][1])
            if not any(o.start_at == occurrence for o in found.occurrences):
                raise NotFound("that event does not occur at that time")
            before = snapshot(event)
            event.exdates = [*event.exdates, occurrence.isoformat()]
            event.updated_at = self.ctx.now()
            self.session.add(event)
            await self.session.flush()
            changes.updated(event, before)
        else:
            if event.external_etag is not None and not event.meta.get("derived_from"):
                # Synced: the next sync deletes it on the server too (the server of
                # whoever synced it, when a housemate deletes it from the shared calendar).
                self.session.add(
                    CalendarTombstone(
                        user_id=event.user_id,
                        external_uid=event.external_uid or "",
                        href=event.meta.get("caldav_href"),
                    )
                )
            changes.deleted(event)
            await self.session.delete(event)
            await self.session.flush()
        record_action(
            self.ctx,
            "calendar.delete",
            "event",
            event.id,
            changes,
            title=event.title,
            occurrence=occurrence.isoformat() if occurrence else None,
        )
        return event

    # --- reading -----------------------------------------------------------

    async def occurrences(self, window: TimeRange) -> list[Occurrence]:
        return (await self.expansion(window)).occurrences

    async def expansion(self, window: TimeRange) -> Expansion:
        """The window's occurrences, and the events whose stored rule was skipped."""
        statement = select(Event).where(
            await access.visible(self.ctx, Event, Capability.CALENDAR_READ),
            col(Event.start_at) < window.end,
            or_(col(Event.recurrence).is_not(None), col(Event.end_at) > window.start),
        )
        events = list(await self.session.exec(statement))
        return await expand(events, window.start, window.end)

    async def query(self, window: TimeRange) -> list[EventInstance]:
        return [instance(o) for o in await self.occurrences(window)]

    async def find_conflicts(self, window: TimeRange) -> list[Conflict]:
        """Pairs of timed occurrences that overlap, repeating instances included."""
        timed = [o for o in await self.occurrences(window) if not o.event.all_day]
        conflicts = []
        for i, first in enumerate(timed):
            for second in timed[i + 1 :]:
                if second.start_at >= first.end_at:
                    break  # sorted by start: nothing later can overlap ``first``
                if len(conflicts) == MAX_CONFLICTS:
                    raise SkillError(
                        f"that range has more than {MAX_CONFLICTS:,} clashes: ask for a shorter one"
                    )
                overlap = min(first.end_at, second.end_at) - second.start_at
                conflicts.append(
                    Conflict(
                        first=instance(first),
                        second=instance(second),
                        overlap_minutes=int(overlap.total_seconds() // 60),
                    )
                )
        return conflicts

    async def suggest_optimal_time(self, request: SlotRequest) -> list[FreeSlot]:
        start = max(request.start, self.ctx.now())
        if start >= request.end:
            raise SkillError("that window is already in the past")
        window = TimeRange(start=start, end=request.end)
        busy = [
            Interval(o.start_at, o.end_at)
            for o in await self.occurrences(window)
            if not o.event.all_day
        ]
        windows = working_windows(start, request.end, self.ctx.settings.working_hours, self.ctx.tz)
        # A year of windows against thousands of busy times is real work: off the loop.
        return await asyncio.to_thread(
            rank_slots,
            windows,
            busy,
            timedelta(minutes=request.duration_minutes),
            timedelta(minutes=request.buffer_minutes),
            request.prefer,
            request.limit,
            self.ctx.tz,
        )

    async def sync_external_calendar(self) -> SyncReport:
        """Two-way sync with the user's CalDAV calendar (see skills.calendar.sync)."""
        return await CalendarSync(self.ctx).sync()

    # --- iCalendar -----------------------------------------------------------

    async def export_ics(self) -> bytes:
        events = await self.session.exec(
            select(Event).where(Event.user_id == self.ctx.user_id).order_by(col(Event.start_at))
        )
        return to_calendar(list(events)).to_ical()

    async def import_ics(self, data: bytes | str) -> dict[str, int]:
        """Add or update events from an .ics file, matched by UID: importing the same
        file twice changes nothing. All or nothing: a bad event stops the whole file."""
        # Plain columns, not ORM objects: re-importing a large file stays cheap here.
        stored = await self.session.exec(
            select(Event.external_uid, *(getattr(Event, name) for name in IMPORTED)).where(
                Event.user_id == self.ctx.user_id, col(Event.external_uid).is_not(None)
            )
        )
        plan = await in_worker(
            plan_import,
            data,
            self.ctx.settings.timezone,
            self.ctx.user_id,
            self.ctx.now(),
            {row[0]: dict(zip(IMPORTED, row[1:], strict=True)) for row in stored},
        )
        rows = itertools.chain.from_iterable(map(unpack, plan.rows))  # a batch at a time
        created = await insert_rows(self.session, Event, rows)
        changes = ChangeSet()
        counts = {"created": plan.created, "updated": 0, "unchanged": plan.unchanged}
        for item in plan.updates:
            found = await self.session.exec(
                select(Event).where(
                    Event.user_id == self.ctx.user_id, Event.external_uid == item.uid
                )
            )
            current = found.one()
            before = snapshot(current)
            for name, value in item.fields.items():
                setattr(current, name, value)
            current.updated_at = self.ctx.now()
            self.session.add(current)
            changes.updated(current, before)
            counts["updated"] += 1
        await self.session.flush()
        await record_bulk_action(
            self.ctx,
            "calendar.import",
            "event",
            None,
            changes,
            added={Event.__tablename__: created},
            **counts,
        )
        return counts

    # --- helpers -------------------------------------------------------------

    def _zone(self, zone: str | None) -> str:
        try:
            return validate_timezone(zone or self.ctx.settings.timezone)
        except ValueError as exc:
            raise SkillError(str(exc)) from exc

    def _rule(self, rule: str | None, start: datetime, zone: str) -> str | None:
        if not rule:
            return None
        return normalize_rule(rule, start.astimezone(ZoneInfo(zone)))

    async def _leave_tombstone(self, event: Event) -> None:
        """A synced event deleted here: the next sync deletes it on the server too."""
        uid = event.external_uid or ""
        existing = await self.session.exec(
            select(CalendarTombstone).where(
                CalendarTombstone.user_id == self.ctx.user_id, CalendarTombstone.external_uid == uid
            )
        )
        if existing.first() is None:
            self.session.add(
                CalendarTombstone(
                    user_id=self.ctx.user_id, external_uid=uid, href=event.meta.get("caldav_href")
                )
            )
