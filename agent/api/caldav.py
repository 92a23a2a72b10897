"""/v1/calendar/caldav: the CalDAV calendar to sync with, and the sync trigger."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, HttpUrl

from agent.api.deps import SkillCtx
from skills.calendar.service import CalendarService
from skills.calendar.sync import CalendarSync

router = APIRouter(prefix="/v1/calendar/caldav", tags=["calendar"])


class CalDAVSettings(BaseModel):
    url: HttpUrl = Field(description="The calendar collection, e.g. https://host/dav/ann/work/")
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=500)


class CalDAVAccount(BaseModel):
    url: str
    username: str
    last_synced_at: datetime | None


@router.put("", response_model=CalDAVAccount, summary="Connect (checked before it is saved)")
async def connect(ctx: SkillCtx, body: CalDAVSettings) -> CalDAVAccount:
    account = await CalendarSync(ctx).connect(str(body.url), body.username, body.password)
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
async def sync(ctx: SkillCtx) -> JSONResponse:
    report = await CalendarService(ctx).sync_external_calendar()
    body = {"pulled": report.pulled, "pushed": report.pushed, "error": report.error}
    # A failure part-way still keeps (commits) what was done, and says what failed.
    return JSONResponse(body, status_code=502 if report.error else 200)
