"""The `Responder`: what the speech pipeline is given instead of the agent itself
(speech imports nothing of ours; the composition root hands it one)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from speech.answers import Expected

NOTHING_HEARD = "Sorry, I didn't hear anything. Please try again."


class Responder(Protocol):
    """The agent as speech sees it: text in, reply clauses out."""

    def reply(self, text: str, stages: dict[str, float]) -> AsyncIterator[str]:
        """The reply to ``text``, first clause first. The responder writes how long its
        own stages took (milliseconds, e.g. "intent", "action") into ``stages``."""
        ...

    async def complete(self, text: str) -> bool:
        """Is ``text`` a whole request as it stands? Then a short pause after it ends
        the turn; otherwise the pipeline waits for the longer silence."""
        ...

    async def rehearse(self, text: str) -> str | None:
        """The first clause of the reply ``text`` would get if the turn ended now,
        worked out with nothing written, sent or asked of an outside service (the
        user may go on talking); None when it cannot be known that way."""
        ...

    async def expected(self) -> Sequence[Expected] | None:
        """The short answers the conversation is waiting for now ("yes" and "no" after
        "Delete all 3 tasks?", numbers after "How much was it?"), or None when it asked
        nothing: a one-word turn close to one of them is heard as it."""
        ...

    async def vocabulary(self) -> Sequence[str]:
        """The user's own names (lists, projects, merchants, categories), likeliest
        first: recognition is told of them, so they are heard as written."""
        ...

    async def cut_short(self, heard: str) -> None:
        """The user talked over the last reply and heard only ``heard`` of it: the
        rest must not count as said (it leaves the dialogue history)."""
        ...
