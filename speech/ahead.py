"""Reply audio made before it is asked for: the first clause of a rehearsed reply,
synthesized while the user's pause is judged (speech/processors.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from loguru import logger

from speech.audio import Audio


class AudioAhead:
    """At most one clause's audio in the making, kept until a reply says exactly its
    words (the audio of a sentence is the same whenever it is made) or is dropped."""

    def __init__(self, synthesize: Callable[[str], Audio]) -> None:
        self._synthesize = synthesize  # blocking: runs in a worker thread
        self._made: tuple[str, asyncio.Task[Audio]] | None = None

    async def start(self, text: str) -> None:
        await self.drop()
        making = asyncio.create_task(asyncio.to_thread(self._synthesize, text))
        self._made = (text, making)

    async def take(self, text: str) -> Audio | None:
        """The audio of ``text`` if it was made ahead (waiting for it if still being
        made); anything else made ahead is dropped."""
        made, self._made = self._made, None
        if made is None:
            return None
        said, making = made
        if said != text:
            await _stop(making)
            return None
        try:
            return await making
        except Exception:
            logger.opt(exception=True).warning("audio made ahead failed; making it again")
            return None

    async def drop(self) -> None:
        made, self._made = self._made, None
        if made is not None:
            await _stop(made[1])


async def _stop(making: asyncio.Task[Audio]) -> None:
    """The thread finishes its sentence regardless; its result is not waited for."""
    making.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await making
