"""Reading an .ics file into rows, done in the worker process (skills.offload):
parsing and building ten thousand events is seconds of CPU that must not hold up
everyone else's requests, and in a thread it held the interpreter lock they need."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from skills.bulk import BATCH
from skills.calendar.ical import ParsedEvent, parse_calendar
from skills.context import SkillError
from skills.offload import pack
from store.models import Event

# What a file sets on an event: the fields compared to see whether it changed.
IMPORTED = (
    "title",
    "start_at",
    "end_at",
    "all_day",
    "timezone",
    "description",
    "location",
    "attendees",
    "recurrence",
    "exdates",
)


@dataclass
class ImportPlan:
    rows: list[bytes] = field(default_factory=list)  # new events as rows, packed
    created: int = 0
    updates: list[ParsedEvent] = field(default_factory=list)  # stored, and changed
    unchanged: int = 0


def merge_moved(parsed: list[ParsedEvent]) -> list[ParsedEvent]:
    """Masters first, then moved instances as events of their own, each cancelled in
    its series; a UID twice in one file is refused (it would match nothing twice)."""
    masters: dict[str, ParsedEvent] = {}
    for item in parsed:
        if item.recurrence_id is None:
            if item.uid in masters:
                raise SkillError(f"the file has two events with the UID {item.uid!r}")
            masters[item.uid] = item
    moved: dict[str, ParsedEvent] = {}
    for item in parsed:
        if item.recurrence_id is None:
            continue
        stamp = item.recurrence_id.isoformat()
        master = masters.get(item.uid)
        if master is not None:
            master.fields["exdates"] = sorted({*master.fields["exdates"], stamp})
        uid = f"{item.uid}#{stamp}"
        if uid in moved or uid in masters:
            raise SkillError(f"the file has two events with the UID {uid!r}")
        item.uid = uid
        item.fields["recurrence"] = None
        moved[uid] = item
    return [*masters.values(), *moved.values()]


def plan_import(
    data: bytes | str,
    zone: str,
    user_id: uuid.UUID,
    now: datetime,
    stored: Mapping[str, Mapping[str, Any]],
) -> ImportPlan:
    """Parse ``data``; new events become rows, and an event whose UID is ``stored``
    (with its current fields) an update when any field differs. Worker side."""
    plan = ImportPlan()
    rows = []
    for item in merge_moved(parse_calendar(data, zone)):
        current = stored.get(item.uid)
        if current is not None:
            if all(current.get(name) == value for name, value in item.fields.items()):
                plan.unchanged += 1
            else:
                plan.updates.append(item)
            continue
        # Every defaulted field given: pydantic inspects a default factory's signature
        # on each call, which was most of a large import's time.
        event = Event(
            id=uuid.uuid4(),
            user_id=user_id,
            external_uid=item.uid,
            created_at=now,
            updated_at=now,
            meta={},
            **item.fields,
        )
        rows.append(event.model_dump())
    plan.rows, plan.created = pack(rows, BATCH), len(rows)
    return plan
