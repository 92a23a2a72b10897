"""The assistant as the speech pipeline's `Responder`, bound to one user and one
conversation (a voice connection, a phone call, a `lifeos talk` run)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, tzinfo

from agent.dialogue.assistant import Assistant, Turn, clauses
from intents.model import Intent, UserContext
from skills.access import Reach

YES_NO = ("yes", "no")
NAMES_FRESH = 30.0  # seconds: a name made on another channel is known this soon
# Amounts said alone ("How much was it?" "Twelve."): each with its spelling, so that
# "forty" is itself an answer rather than a "four" misheard.
_SMALL = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
_TENS = ["thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBERS = (
    *((str(n), word) for n, word in enumerate(_SMALL)),
    *((str(30 + 10 * n), word) for n, word in enumerate(_TENS)),
)

# Words a request does not end on: after them the speaker has more to say.
DANGLING = frozenset(
    {
        "a",
        "an",
        "the",
        "my",
        "our",
        "your",
        "to",
        "for",
        "at",
        "on",
        "in",
        "of",
        "with",
        "and",
        "or",
        "but",
        "by",
        "from",
        "about",
        "into",
        "remind",
        "add",
        "put",
        "schedule",
        "move",
        "set",
        "is",
        "are",
    }
)


class VoiceResponder:
    def __init__(
        self,
        assistant: Assistant,
        user_id: uuid.UUID,
        *,
        session_id: str | None = None,
        channel: str = "voice",
        reach: Reach | None = None,
    ) -> None:
        """``reach``: what the device spoken through may do (a speaker: no money)."""
        self.assistant = assistant
        self.reach = reach
        self.user_id = user_id
        self.session_id = session_id or f"{channel}-{uuid.uuid4().hex[:12]}"
        self.channel = channel
        self._where: tuple[tzinfo, str] | None = None  # the user's zone and currency
        self._heard: Intent | None = None  # the last pause's parse, for its turn's reply
        self._names: tuple[float, list[str]] | None = None  # (read at, the user's names)

    def reply(self, text: str, stages: dict[str, float]) -> AsyncIterator[str]:
        parsed, self._heard = self._heard, None
        self._names = None  # the turn may make a list or pay a new merchant
        turn = Turn(
            text, self.user_id, self.session_id, self.channel, parsed=parsed, reach=self.reach
        )
        return self.assistant.respond(turn, stages)

    async def rehearse(self, text: str) -> str | None:
        """The first clause of the reply ``text`` would get if the turn ended now,
        worked out with nothing kept (`Assistant.rehearse`); the pause's parse is
        read, not used up: the turn's real reply still reuses it."""
        turn = self._rehearsal(text)
        reply = None if turn is None else await self.assistant.rehearse(turn)
        said = clauses(reply.text) if reply is not None else []
        return said[0] if said else None

    def _rehearsal(self, text: str) -> Turn | None:
        """The turn to rehearse for ``text``; None when this channel cannot tell."""
        return Turn(
            text, self.user_id, self.session_id, self.channel, parsed=self._heard, reach=self.reach
        )

    async def complete(self, text: str) -> bool:
        words = text.lower().strip(" .,!?").split()
        if not words or words[-1] in DANGLING:
            return False  # "add milk to my" … the rest is still coming
        found = self._heard = await self._parse(text)
        if found is not None and not found.missing:
            return True
        # "tomorrow at nine" is no request, but it is a whole answer to "When?"
        return await self.assistant.answers_question(self.user_id, self.session_id, text)

    async def _parse(self, text: str) -> Intent | None:
        """The rules' reading of ``text`` in the user's own zone, as the turn's reply
        would make it: if the turn ends on these words, the reply reuses it."""
        if self._where is None:
            self._where = await self.assistant.zone_and_currency(self.user_id)
        zone, currency = self._where or (UTC, "USD")
        now = self.assistant.clock().astimezone(zone)
        context = UserContext(now=now, currency=currency)
        return await asyncio.to_thread(self.assistant.parser.rules.parse, text, context)

    async def expected(self) -> Sequence[str | tuple[str, str]] | None:
        """Yes or no after a confirmation or a check-back, an amount after "How much?";
        None when nothing was asked or what was asked is no one-word answer."""
        waiting = await self.assistant.waiting_for(self.user_id, self.session_id)
        if waiting is None:
            return None
        pending, _now = waiting
        if pending.wants_yes:
            return YES_NO
        return NUMBERS if pending.awaiting == "amount" else None

    async def vocabulary(self) -> Sequence[str]:
        """Asked before every decode, so read at most every NAMES_FRESH seconds (four
        queries, 2–20 ms on a busy box) and again after each turn of this conversation."""
        now = time.monotonic()
        if self._names is None or now - self._names[0] > NAMES_FRESH:
            self._names = (now, await self.assistant.vocabulary(self.user_id))
        return self._names[1]

    async def cut_short(self, heard: str) -> None:
        await self.assistant.cut_short(self.user_id, self.session_id, heard)
