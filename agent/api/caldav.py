"""/v1/calendar/caldav: the CalDAV calendar to sync with, and the sync trigger."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, HttpUrl

from agent.api.deps import ServicesDep, SkillCtx
from agent.api.errors import UNREACHABLE
from agent.services import Services
from skills.calendar.sync import CalendarSync, RemoteFactory

if TYPE_CHECKING:
    from skills.calendar.remote import RemoteCalendar

router = APIRouter(prefix="/v1/calendar/caldav", tags=["calendar"])


class CalDAVSettings(BaseModel):
    url: HttpUrl = Field(description="The calendar collection, e.g. https://host/dav/ann/work/")
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=500)


class CalDAVAccount(BaseModel):
    url: str
    username: str
    last_synced_at: datetime | None


def remote_calendars(services: Services) -> RemoteFactory:
    """CalDAV calendars reached as the settings allow: public addresses only, unless
    LIFEOS_CALDAV_ALLOW_PRIVATE is set."""
    allow_private = services.settings.caldav_allow_private

    def open_calendar(url: str, username: str, password: str) -> RemoteCalendar:
        from skills.calendar.remote import RemoteCalendar  # the caldav client: ~0.4 s

        return RemoteCalendar(url, username, password, allow_private=allow_private)

    return open_calendar


@router.put(
    "",
    response_model=CalDAVAccount,
    summary="Connect (checked before it is saved)",
    responses=UNREACHABLE,
)
async def connect(ctx: SkillCtx, services: ServicesDep, body: CalDAVSettings) -> CalDAVAccount:
    sync = CalendarSync(ctx, remote_calendars(services))
    account = await sync.connect(str(body.url), body.username, body.password)
    return CalDAVAccount(url=account.url, username=account.username, last_synced_at=None)


@router.get("", response_model=CalDAVAccount)
async def read(ctx: SkillCtx) -> CalDAVAccount:
    account = await CalendarSync(ctx).account()
    return CalDAVAccount(
        url=account.url, username=account.username, last_synced_at=account.last_synced_at
    )


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def disconnect(ctx: SkillCtx) -> None:
    await CalendarSync(ctx).disconnect()


@router.post("/sync", summary="Sync both ways now")
async def sync(ctx: SkillCtx, services: ServicesDep) -> JSONResponse:
    report = await CalendarSync(ctx, remote_calendars(services)).sync()
    body = {"pulled": report.pulled, "pushed": report.pushed, "error": report.error}
    # A failure part-way still keeps (commits) what was done, and says what failed.
    return JSONResponse(body, status_code=502 if report.error else 200)
