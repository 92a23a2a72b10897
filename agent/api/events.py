"""/v1/events and the calendar file: the signed-in user's calendar."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from agent.api.deps import SkillCtx
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
from skills.calendar.service import CalendarService, instance, public
from skills.types import CalendarTime

router = APIRouter(tags=["calendar"])

MAX_ICS_BYTES = 5 * 1024 * 1024


@router.get(
    "/v1/events",
    response_model=list[EventInstance],
    summary="Occurrences in a range, repeating events expanded",
)
async def query_events(
    ctx: SkillCtx, window: Annotated[TimeRange, Query()], response: Response
) -> list[EventInstance]:
    """An event whose stored repeating rule cannot be expanded is left out and named
    in the ``X-Skipped-Events`` header (its id), so the rest of the calendar answers."""
    found = await CalendarService(ctx).expansion(window)
    if found.skipped:
        response.headers["X-Skipped-Events"] = ",".join(str(e.id) for e, _ in found.skipped)
    return [instance(o) for o in found.occurrences]


@router.post("/v1/events", response_model=EventPublic, status_code=status.HTTP_201_CREATED)
async def create_event(ctx: SkillCtx, body: EventCreate) -> EventPublic:
    return public(await CalendarService(ctx).create_event(body))


@router.get(
    "/v1/events/free",
    response_model=list[FreeSlot],
    summary="Suggested free slots in working hours, best first",
)
async def free_slots(ctx: SkillCtx, request: Annotated[SlotRequest, Query()]) -> list[FreeSlot]:
    return await CalendarService(ctx).suggest_optimal_time(request)


@router.get("/v1/events/conflicts", response_model=list[Conflict])
async def conflicts(ctx: SkillCtx, window: Annotated[TimeRange, Query()]) -> list[Conflict]:
    return await CalendarService(ctx).find_conflicts(window)


@router.get("/v1/events/{event_id}", response_model=EventPublic)
async def read_event(ctx: SkillCtx, event_id: uuid.UUID) -> EventPublic:
    return public(await CalendarService(ctx).get(event_id))


@router.patch("/v1/events/{event_id}", response_model=EventPublic)
async def update_event(ctx: SkillCtx, event_id: uuid.UUID, body: EventUpdate) -> EventPublic:
    return public(await CalendarService(ctx).update_event(event_id, body))


@router.delete(
    "/v1/events/{event_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an event, or one occurrence of a repeating event",
)
async def delete_event(
    ctx: SkillCtx, event_id: uuid.UUID, occurrence: CalendarTime | None = None
) -> None:
    await CalendarService(ctx).delete_event(event_id, occurrence)


@router.get("/v1/calendar.ics", response_class=Response, summary="Export as iCalendar")
async def export_calendar(ctx: SkillCtx) -> Response:
    return Response(
        await CalendarService(ctx).export_ics(),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="lifeos.ics"'},
    )


@router.post("/v1/calendar.ics", summary="Import an iCalendar file (all or nothing)")
async def import_calendar(ctx: SkillCtx, request: Request) -> dict[str, int]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_ICS_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the file is larger than 5 MB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_ICS_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the file is larger than 5 MB")
    if not body.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the file is empty")
    return await CalendarService(ctx).import_ics(bytes(body))
