"""The assistant as the speech pipeline's `Responder`, bound to one user and one
conversation (a voice connection, a phone call, a `lifeos talk` run)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from agent.assistant import Assistant, Turn


class VoiceResponder:
    def __init__(
        self,
        assistant: Assistant,
        user_id: uuid.UUID,
        *,
        session_id: str | None = None,
        channel: str = "voice",
    ) -> None:
        self.assistant = assistant
        self.user_id = user_id
        self.session_id = session_id or f"{channel}-{uuid.uuid4().hex[:12]}"
        self.channel = channel

    def reply(self, text: str, stages: dict[str, float]) -> AsyncIterator[str]:
        turn = Turn(text, self.user_id, self.session_id, channel=self.channel)
        return self.assistant.respond(turn, stages)

    async def cut_short(self, heard: str) -> None:
        await self.assistant.cut_short(self.user_id, self.session_id, heard)
