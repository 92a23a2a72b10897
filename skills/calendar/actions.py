"""Calendar actions for the conversation: events by title, time windows as ranges."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import fuzz, process

from skills.access import Capability
from skills.actions import Action, Outcome
from skills.calendar.schemas import EventCreate, EventUpdate, SlotRequest, TimeRange
from skills.calendar.service import CalendarService, public
from skills.context import NotFound, SkillContext
from skills.types import CalendarTime
from store.models import Event

LOOKAHEAD = timedelta(days=90)


class EventRef(BaseModel):
    """Which event: by id, or by (fuzzy) title among the coming weeks' events."""

    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID | None = None
    title: str | None = Field(default=None, max_length=500)
    occurrence: CalendarTime | None = Field(
        default=None, description="Only this occurrence of a repeating event"
    )

    @model_validator(mode="after")
    def _one_of(self) -> EventRef:
        if self.event_id is None and not (self.title and self.title.strip()):
            raise ValueError("say which event: a title or an id")
        return self


class EventChange(EventRef):
    changes: EventUpdate
    keep_day: bool = Field(
        default=False,
        description="Only a time was said: the new start is that time on the event's own day",
    )


class EventFind(TimeRange):
    text: str | None = None


async def _resolve(service: CalendarService, ref: EventRef) -> Event:
    if ref.event_id is not None:
        return await service.get(ref.event_id)
    now = service.ctx.now()
    window = TimeRange(start=now - timedelta(days=1), end=now + LOOKAHEAD)
    upcoming = {o.event.id: o.event for o in await service.occurrences(window)}
    choices = {event_id: event.title.lower() for event_id, event in upcoming.items()}
    found = process.extractOne(
        (ref.title or "").strip().lower(), choices, scorer=fuzz.WRatio, score_cutoff=80
    )
    if found is None:
        raise NotFound(f"I couldn't find an event called “{ref.title}” coming up")
    return upcoming[found[2]]


async def create_event(ctx: SkillContext, args: EventCreate) -> Outcome:
    service = CalendarService(ctx)
    event = await service.create_event(args)
    window = TimeRange(start=event.start_at, end=event.end_at)
    clashes = [o.event.title for o in await service.occurrences(window) if o.event.id != event.id]
    facts = {
        "title": event.title,
        "start_at": event.start_at,
        "end_at": event.end_at,
        "recurrence": event.recurrence,
        "conflicts_with": clashes,
    }
    return Outcome("calendar.create", facts, [public(event).model_dump(mode="json")])


async def query_events(ctx: SkillContext, args: EventFind) -> Outcome:
    found = await CalendarService(ctx).query(TimeRange(start=args.start, end=args.end))
    if args.text:
        wanted = args.text.lower()
        found = [i for i in found if fuzz.partial_ratio(wanted, i.title.lower()) >= 80]
    facts = {
        "count": len(found),
        "start": args.start,
        "end": args.end,
        "events": [{"title": i.title, "start_at": i.start_at, "all_day": i.all_day} for i in found],
    }
    return Outcome(
        "calendar.query", facts, [i.model_dump(mode="json") for i in found], changed=False
    )


async def update_event(ctx: SkillContext, args: EventChange) -> Outcome:
    service = CalendarService(ctx)
    found = await _resolve(service, args)
    changes = args.changes
    if args.keep_day and changes.start_at is not None:
        changes = changes.model_copy(update={"start_at": _same_day(found, changes.start_at, ctx)})
    event = await service.update_event(found.id, changes)
    facts = {
        "title": event.title,
        "start_at": event.start_at,
        "end_at": event.end_at,
        "alert_minutes": event.alert_minutes,
        "changed": sorted(args.changes.model_fields_set),
    }
    return Outcome("calendar.update", facts, [public(event).model_dump(mode="json")])


def _same_day(event: Event, at: datetime, ctx: SkillContext) -> datetime:
    """``at``'s time of day on the day ``event`` starts, in the user's zone."""
    day = event.start_at.astimezone(ctx.tz).date()
    clock = at.astimezone(ctx.tz)
    return datetime.combine(day, clock.time().replace(tzinfo=None), ctx.tz)


async def delete_event(ctx: SkillContext, args: EventRef) -> Outcome:
    service = CalendarService(ctx)
    target = await _resolve(service, args)
    record = public(target).model_dump(mode="json")
    event = await service.delete_event(target.id, args.occurrence)
    facts = {"title": event.title, "start_at": event.start_at, "occurrence": args.occurrence}
    return Outcome("calendar.delete", facts, [record])


async def free_time(ctx: SkillContext, args: SlotRequest) -> Outcome:
    slots = await CalendarService(ctx).suggest_optimal_time(args)
    facts = {
        "duration_minutes": args.duration_minutes,
        "slots": [{"start_at": s.start_at, "end_at": s.end_at} for s in slots],
    }
    return Outcome(
        "calendar.free_time", facts, [s.model_dump(mode="json") for s in slots], changed=False
    )


CALENDAR_ACTIONS = [
    Action(
        "calendar.create",
        "Put an event on the calendar.",
        EventCreate,
        create_event,
        needs=Capability.CALENDAR_WRITE,
        replies={
            "event": "Added {title} {when}.",
            "repeating": "Added {title} {repeat}.",
            "overlap": " Heads up, that overlaps with {conflicts}.",
        },
        proposals=("Add {title} to your calendar {when}?", "Add {title} to your calendar?"),
        questions={"when": "When is it?", "title": "What should I call it?"},
    ),
    Action(
        "calendar.query",
        "What is on the calendar in a time range.",
        EventFind,
        query_events,
        needs=Capability.CALENDAR_READ,
        replies={
            "events": "You have {count} {noun}: {events}.",
            "none": "Nothing on your calendar then.",
            "not_found": "I don't see that on your calendar.",
        },
        proposals=("Look for {text} on your calendar?", "Read your calendar?"),
    ),
    Action(
        "calendar.update",
        "Move or change an event.",
        EventChange,
        update_event,
        needs=Capability.CALENDAR_WRITE,
        replies={
            "moved": "Moved {title} to {when}.",
            "alert": "Okay, I'll remind you {lead} before {title}.",
        },
        proposals=("Move {title} to {when}?", "Change {title}?"),
        questions={
            "when": "When should I move it to?",
            "lead": "How long before it should I remind you?",
        },
    ),
    Action(
        "calendar.delete",
        "Cancel an event or one occurrence of it.",
        EventRef,
        delete_event,
        needs=Capability.CALENDAR_WRITE,
        replies={"occurrence": "Cancelled {title} on {when}.", "cancelled": "Cancelled {title}."},
        proposals=("Cancel {title}?",),
        confirm=True,
    ),
    Action(
        "calendar.free_time",
        "Find free time for something of a given length.",
        SlotRequest,
        free_time,
        needs=Capability.CALENDAR_READ,
        replies={"free": "You're free {slots}.", "none": "I couldn't find a free slot then."},
        proposals=("Look for {minutes} free minutes?", "Look for free time?"),
    ),
]
