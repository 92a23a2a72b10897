"""Reminders by text message and by phone call, through Twilio.

Both go to the user's phone number and into the conversation that number shares
with its calls and texts (``phone-<number>``): the scheduler saves the reminder as
that conversation's context, so a texted or spoken "done", "snooze ten minutes" or
"remind me tomorrow instead" applies to it. Twilio reports how each went (delivered,
failed, no-answer…) to /v1/twilio/status, shown beside the delivery log.

Twilio taking the text or call makes the reminder "sent"; whether the phone got it
(or the call was answered) comes later, by the status callback, and one that did not
reach the user goes on to the next channel (skills/reminders/reports.py).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from agent.dialogue.phone import phone_session
from agent.reminders.channels import DeliveryResult, DueReminder
from agent.reminders.wording import notice_text
from skills.context import system_clock
from store.models import Reminder, User
from telephony.media import REMINDER_KEYS
from telephony.messenger import MessengerError, OptedOut, Sent, TwilioMessenger

# What the user can answer, added to what they read or hear.
TEXT_HINT = "Reply done, snooze ten minutes, or remind me tomorrow instead."
CALL_HINT = (
    " ".join(f"Say {words}, or press {key}." for key, words in REMINDER_KEYS.items())
    + " Or say remind me tomorrow instead."
)
VOICE_PATH = "/v1/twilio/voice"
STATUS_PATH = "/v1/twilio/status"


@dataclass(frozen=True)
class Outbound:
    """Twilio's REST client and the public address its webhooks reach us at."""

    messenger: TwilioMessenger
    public_url: str

    def address(self, path: str, **query: str) -> str:
        url = self.public_url.rstrip("/") + path
        return f"{url}?{urlencode(query)}" if query else url


# Twilio for one delivery, or why there is none ("Twilio is not configured").
Connect = Callable[[], Outbound | str]


class TwilioChannel(ABC):
    """A text or call to the user's phone, with Twilio's reports asked for; what is
    sent is the subclass's ``send``."""

    name: str

    def __init__(self, connect: Connect) -> None:
        self.connect = connect

    async def deliver(self, reminder: DueReminder, user: User) -> DeliveryResult:
        if not user.phone:
            return DeliveryResult.unreachable("no phone number")
        twilio = self.connect()
        if isinstance(twilio, str):
            return DeliveryResult.unreachable(twilio)
        try:
            sent = await self.send(twilio, reminder, user.phone)
        except OptedOut:
            return DeliveryResult.unreachable("texts stopped (STOP)")
        except MessengerError as exc:
            return DeliveryResult.failed(str(exc))
        finally:
            await twilio.messenger.close()
        return DeliveryResult.sent(phone_session(user.phone), sent.sid)

    @abstractmethod
    async def send(self, twilio: Outbound, reminder: DueReminder, phone: str) -> Sent:
        """Hand the reminder to Twilio; raises MessengerError when Twilio refuses."""


class SmsChannel(TwilioChannel):
    """A text, with the answers the user can reply."""

    name = "sms"

    async def send(self, twilio: Outbound, reminder: DueReminder, phone: str) -> Sent:
        body = f"{reminder.text} {TEXT_HINT}"
        return await twilio.messenger.send_sms(
            phone, body, status_callback=twilio.address(STATUS_PATH)
        )


class CallChannel(TwilioChannel):
    """A call: answered, it speaks the reminder and listens, in the same conversation
    as the number's texts (the voice webhook, given the reminder's id, opens the
    Media Stream with it)."""

    name = "call"

    async def send(self, twilio: Outbound, reminder: DueReminder, phone: str) -> Sent:
        return await twilio.messenger.place_call(
            phone,
            url=twilio.address(VOICE_PATH, reminder=str(reminder.reminder.id)),
            status_callback=twilio.address(STATUS_PATH),
        )


def call_opening(
    sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = system_clock
) -> Callable[[uuid.UUID, uuid.UUID], Awaitable[str | None]]:
    """What a reminder call says when answered: the reminder as it reads now, and
    what the user can answer."""

    async def opening(user_id: uuid.UUID, reminder_id: uuid.UUID) -> str | None:
        async with sessions() as db:
            reminder = await db.get(Reminder, reminder_id)
            user = await db.get(User, user_id)
        if reminder is None or user is None or reminder.user_id != user_id:
            return None
        local = clock().astimezone(ZoneInfo(user.preferences.timezone))
        return f"{notice_text(reminder, local)} {CALL_HINT}"

    return opening
