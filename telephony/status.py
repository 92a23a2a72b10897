"""Twilio's status callbacks for the texts and calls the service makes (reminders):
the last status of each, by its SID, for the delivery log to show.

Twilio posts them as they happen but does not promise their order, so a status
never replaces a later one (a late "sent" leaves "delivered" as it is)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from store.database import session_scope
from store.models import TwilioStatus
from store.types import utcnow

# How far along each passing status is; anything not listed (delivered, undelivered,
# failed, read; completed, busy, no-answer, canceled) is where a text or call ends.
PASSING = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "initiated": 1,
    "sending": 2,
    "ringing": 2,
    "sent": 3,
    "in-progress": 3,
}
FINAL = 9


def reported(form: Mapping[str, str]) -> tuple[str, str, str | None] | None:
    """(sid, status, error code) from a message's or a call's status callback."""
    if form.get("MessageSid") and form.get("MessageStatus"):
        sid, state = form["MessageSid"], form["MessageStatus"]
    elif form.get("CallSid") and form.get("CallStatus"):
        sid, state = form["CallSid"], form["CallStatus"]
    else:
        return None
    return sid[:64], state.lower()[:20], (form.get("ErrorCode") or None)


async def record_status(
    sessions: async_sessionmaker[AsyncSession], form: Mapping[str, str]
) -> tuple[str, str] | None:
    """Keep the status a callback reports: (sid, status), None when it reports none."""
    found = reported(form)
    if found is None:
        return None
    sid, state, error = found
    for _ in range(2):  # two callbacks at once for a new SID: the second updates
        try:
            async with session_scope(sessions) as db:
                row = await db.get(TwilioStatus, sid, with_for_update=True)
                if row is None:
                    db.add(TwilioStatus(sid=sid, status=state, error_code=error))
                elif _rank(state) >= _rank(row.status):
                    row.status, row.error_code, row.updated_at = state, error, utcnow()
                    db.add(row)
            return sid, state
        except IntegrityError:
            continue
    return sid, state


def _rank(state: str) -> int:
    return PASSING.get(state, FINAL)
