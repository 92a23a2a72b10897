"""Text messages in and out: the SMS webhook's work once the signature is checked.

A text is answered by the same assistant and conversation as a call from the same
number. STOP, START and HELP are honoured (a stopped number is texted nothing until
START), a retried webhook (same MessageSid) gets the same answer and acts once, and
each number may send only so many texts a minute."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from twilio.twiml.messaging_response import MessagingResponse

from store.database import session_scope
from store.limits import Counts
from store.models import SmsOptOut, TwilioMessage, User
from telephony.limits import DEFAULT_SMS_LIMIT, PerKeyLimit

# Twilio's own opt-out keywords (it also blocks texts to a stopped number itself).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
STOPPED = (
    "You won't get any more texts from Life OS, reminders included. Text START to get them again."
)
STARTED = "Welcome back: Life OS will text you again. Text HELP for help, STOP to stop."
HELP = (
    "Life OS: text what you would say, like 'add milk to my shopping list' or "
    "'what's on my calendar tomorrow'. Text STOP to stop texts, START to get them again."
)
UNKNOWN_NUMBER = (
    "Sorry, this number isn't linked to a Life OS account, so I can't help with it. "
    "Ask the account owner to add your number."
)
SEGMENT = 320  # characters per message: two SMS segments, read as one on any phone


class TextConversation(Protocol):
    """The assistant as the SMS desk sees it (handed in by the composition root)."""

    async def answer(self, user_id: uuid.UUID, number: str, text: str) -> str:
        """The reply to ``text`` from ``number``, in its conversation; it acts too."""
        ...


class SmsDesk:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        conversation: TextConversation,
        limit: str = DEFAULT_SMS_LIMIT,
        counts: Counts | None = None,
    ) -> None:
        self.sessions = sessions
        self.conversation = conversation
        self._texts = PerKeyLimit(limit, "sms", counts)

    async def handle(self, form: Mapping[str, str]) -> str:
        """The TwiML to answer one inbound text with (signature already checked)."""
        sid, number = form.get("MessageSid", ""), form.get("From", "")
        body = form.get("Body", "").strip()
        if not sid or not number:
            return twiml([])
        answered = await self._answered(sid)
        if answered is not None:
            return twiml(split(answered))  # a retry: the same answer, nothing done again
        if not await self._texts.hit(number):
            return twiml([])  # a flood: neither answered nor acted on
        if not await self._claim(sid, number):
            return twiml(split(await self._answered(sid) or ""))
        try:
            reply = await self._reply(number, body)
        except BaseException:
            await self._release(sid)  # nothing was done: a retry may try again
            raise
        async with session_scope(self.sessions) as db:
            row = await db.get(TwilioMessage, sid)
            if row is not None:
                row.reply = reply
        return twiml(split(reply))

    async def _reply(self, number: str, body: str) -> str:
        word = body.upper().strip(" .!")
        if word in STOP_WORDS:
            await self._set_stopped(number, stopped=True)
            return STOPPED
        if word in START_WORDS:
            await self._set_stopped(number, stopped=False)
            return STARTED
        if await self.stopped(number):
            return ""  # no texts after STOP, not even an answer
        if word in HELP_WORDS:
            return HELP
        async with self.sessions() as db:
            user = (await db.exec(select(User).where(User.phone == number))).first()
        if user is None:
            return UNKNOWN_NUMBER
        if not body:
            return HELP
        return await self.conversation.answer(user.id, number, body)

    async def stopped(self, number: str) -> bool:
        async with self.sessions() as db:
            return await db.get(SmsOptOut, number) is not None

    async def _set_stopped(self, number: str, *, stopped: bool) -> None:
        async with session_scope(self.sessions) as db:
            row = await db.get(SmsOptOut, number)
            if stopped and row is None:
                db.add(SmsOptOut(number=number))
            elif not stopped and row is not None:
                await db.delete(row)

    async def _answered(self, sid: str) -> str | None:
        async with self.sessions() as db:
            row = await db.get(TwilioMessage, sid)
        return None if row is None else row.reply

    async def _claim(self, sid: str, number: str) -> bool:
        """Mark the message as being answered; False when another delivery of it got
        there first (two retries at once still act once)."""
        try:
            async with session_scope(self.sessions) as db:
                db.add(TwilioMessage(message_sid=sid, number=number, reply=""))
        except IntegrityError:
            return False
        return True

    async def _release(self, sid: str) -> None:
        async with session_scope(self.sessions) as db:
            row = await db.get(TwilioMessage, sid)
            if row is not None:
                await db.delete(row)


def split(text: str, size: int = SEGMENT) -> list[str]:
    """A long reply as several texts, cut between sentences; a sentence longer than
    one text is cut between words (a single overlong word, such as a link, by size)."""
    parts: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.?!])\s+", text.strip()):
        for piece in _fitted(sentence, size):
            candidate = f"{current} {piece}".strip()
            if len(candidate) <= size:
                current = candidate
                continue
            parts.append(current)
            current = piece
    return [*parts, current] if current else parts


def _fitted(sentence: str, size: int) -> list[str]:
    if len(sentence) <= size:
        return [sentence] if sentence else []
    pieces: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > size:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:size])
            word = word[size:]
        candidate = f"{current} {word}".strip()
        if len(candidate) <= size:
            current = candidate
        else:
            pieces.append(current)
            current = word
    return [*pieces, current] if current else pieces


def twiml(messages: list[str]) -> str:
    """The reply as TwiML; the library escapes the text, so words a user sent can
    never become TwiML of their own."""
    response = MessagingResponse()
    for message in messages:
        response.message(message)
    return str(response)
