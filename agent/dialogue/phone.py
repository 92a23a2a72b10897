"""The assistant over the phone network: a call (as the speech pipeline's
Responder) and texts, in one conversation per phone number.

Caller ID can be spoofed, so money is locked until the PIN is given: a money request
gets "For money, I need your phone PIN first", is held, and runs once the PIN (said,
keyed or texted) matches. Three wrong PINs drop it, and after a few wrong PINs in a
window (``pin_limit``) money stays locked whatever PIN is given. A call stays
unlocked for the call; texts for a few minutes."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from agent.dialogue.assistant import Assistant, Reply, Turn, clauses
from agent.dialogue.voice import VoiceResponder
from intents.model import Intent
from telephony.limits import DEFAULT_PIN_LIMIT, PerKeyLimit
from telephony.pins import Pins, pin_digits

ASK_PIN = "Say your PIN, or key it and press pound."
NO_PIN = "You haven't set one yet: set it with lifeos user pin, then try again."
WRONG_PIN = "That PIN isn't right. Try again."
LOCKED_OUT = "That PIN isn't right, so money stays locked for now."
TOO_MANY_PINS = (
    "There have been too many wrong PINs, so money stays locked for now. Try again later."
)
MAX_TRIES = 3
TEXT_UNLOCK_SECONDS = 300
CALL_UNLOCK_SECONDS = 4 * 3600  # the rest of the call


def phone_session(number: str) -> str:
    """Calls and texts from one number share their conversation."""
    return f"phone-{number}"


@dataclass
class MoneyLock:
    unlocked_until: float = 0.0
    held: str | None = None  # the money request waiting for the PIN
    tries: int = 0

    @property
    def unlocked(self) -> bool:
        return time.monotonic() < self.unlocked_until


class PhoneAssistant:
    """One turn from a phone number, through the money lock of its call or texts."""

    def __init__(
        self, assistant: Assistant, pins: Pins, wrong_pins: PerKeyLimit | None = None
    ) -> None:
        self.assistant = assistant
        self.pins = pins
        # Wrong PINs per user, across calls and texts: three tries a request would
        # otherwise allow endless guessing, one request after another.
        self.wrong_pins = wrong_pins or PerKeyLimit(DEFAULT_PIN_LIMIT, "pin")
        self._text_locks: dict[str, MoneyLock] = {}

    async def turn(
        self,
        lock: MoneyLock,
        user_id: uuid.UUID,
        session_id: str,
        text: str,
        channel: str,
        stages: dict[str, float] | None = None,
        *,
        unlock_for: float,
        parsed: Intent | None = None,
    ) -> str:
        """``parsed``: the rules' reading of ``text`` made at the pause (calls only)."""
        if lock.held is not None:
            digits = pin_digits(text)
            if digits is not None:
                if not await self.wrong_pins.allows(str(user_id)):
                    lock.held, lock.tries = None, 0
                    return TOO_MANY_PINS  # not even checked: guessing gets no answer
                if not await self.pins.verify(user_id, digits):
                    await self.wrong_pins.hit(str(user_id))
                    lock.tries += 1
                    if lock.tries < MAX_TRIES:
                        return WRONG_PIN
                    lock.held, lock.tries = None, 0
                    return LOCKED_OUT
                lock.unlocked_until = time.monotonic() + unlock_for
                text, lock.tries, parsed = lock.held, 0, None
            lock.held = None  # something else was said: the held request is dropped
        turn = Turn(
            text,
            user_id,
            session_id,
            channel=channel,
            parsed=parsed,
            money_locked=not lock.unlocked,
        )
        reply: Reply = await self.assistant.converse(turn, stages)
        if reply.needs != "pin":
            return reply.text
        if not await self.pins.is_set(user_id):
            return f"{reply.text} {NO_PIN}"
        if not await self.wrong_pins.allows(str(user_id)):
            return TOO_MANY_PINS
        lock.held = text
        return f"{reply.text} {ASK_PIN}"

    async def answer(self, user_id: uuid.UUID, number: str, text: str) -> str:
        """A text message's reply (the SMS desk's TextConversation)."""
        lock = self._text_locks.setdefault(number, MoneyLock())
        session = phone_session(number)
        return await self.turn(lock, user_id, session, text, "sms", unlock_for=TEXT_UNLOCK_SECONDS)

    def call(self, user_id: uuid.UUID, number: str, call_sid: str) -> PhoneCallResponder:
        return PhoneCallResponder(self, user_id, number)


class PhoneCallResponder(VoiceResponder):
    """One call's Responder: the voice responder's turn ending and hints, with each
    reply through the call's own money lock (unlocked for the rest of the call)."""

    def __init__(self, phone: PhoneAssistant, user_id: uuid.UUID, number: str) -> None:
        super().__init__(
            phone.assistant, user_id, session_id=phone_session(number), channel="phone"
        )
        self.phone = phone
        self.lock = MoneyLock()

    async def reply(self, text: str, stages: dict[str, float]) -> AsyncIterator[str]:  # type: ignore[override]
        parsed, self._heard = self._heard, None  # the pause's parse, as the web voice reuses it
        said = await self.phone.turn(
            self.lock,
            self.user_id,
            self.session_id,
            text,
            "phone",
            stages,
            unlock_for=CALL_UNLOCK_SECONDS,
            parsed=parsed,
        )
        for clause in clauses(said):
            yield clause

    def _rehearsal(self, text: str) -> Turn | None:
        """A rehearsal goes through the call's money lock as the turn will, without
        touching it; while a money request waits for its PIN, the PIN check decides
        the reply, so nothing is rehearsed."""
        if self.lock.held is not None:
            return None
        turn = super()._rehearsal(text)
        if turn is not None:
            turn.money_locked = not self.lock.unlocked
        return turn

    async def complete(self, text: str) -> bool:
        if self.lock.held is not None and pin_digits(text) is not None:
            return True  # the PIN, said: a whole turn
        return await super().complete(text)
