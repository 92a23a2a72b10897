"""The assistant as livekit-agents' reply node and turn detector.

`ResponderLLM` is the session's LLM: the user's last message goes to the `Responder`
(rules first, Claude for the long tail, the dialogue state and the actions, as on the
voice socket), and its reply comes back clause by clause, first clause first.
`WholeRequest` is the session's turn detector: a turn whose words make a whole
request ("add milk to my shopping list", not "add milk to my") ends at the VAD's
end of speech; otherwise the session waits longer for the rest.
"""

from __future__ import annotations

import uuid

from livekit.agents import llm
from livekit.agents.language import LanguageCode
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from speech.turn import Responder

# An action is never run twice for one turn: the reply is not retried.
NO_RETRY = APIConnectOptions(max_retry=0, timeout=DEFAULT_API_CONNECT_OPTIONS.timeout)


def last_user_text(chat_ctx: llm.ChatContext) -> str:
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.ChatMessage) and item.role == "user":
            return item.text_content or ""
    return ""


class ResponderLLM(llm.LLM):
    def __init__(self, responder: Responder) -> None:
        super().__init__()
        self.responder = responder

    @property
    def model(self) -> str:
        return "lifeos-assistant"

    @property
    def provider(self) -> str:
        return "lifeos"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _ReplyStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=NO_RETRY)


class _ReplyStream(llm.LLMStream):
    async def _run(self) -> None:
        responder: Responder = self._llm.responder  # type: ignore[attr-defined]
        request = uuid.uuid4().hex
        stages: dict[str, float] = {}
        first = True
        async for clause in responder.reply(last_user_text(self._chat_ctx), stages):
            content = clause if first else " " + clause  # clauses of one reply, spaced
            first = False
            delta = llm.ChoiceDelta(role="assistant", content=content)
            self._event_ch.send_nowait(llm.ChatChunk(id=request, delta=delta))


class WholeRequest:
    """livekit-agents' turn detector protocol, answered by the `Responder`."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder

    @property
    def model(self) -> str:
        return "whole-request"

    @property
    def provider(self) -> str:
        return "lifeos"

    async def unlikely_threshold(self, language: LanguageCode | None) -> float | None:
        return 0.5

    async def supports_language(self, language: LanguageCode | None) -> bool:
        return True

    async def predict_end_of_turn(
        self,
        chat_ctx: llm.ChatContext,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (livekit-agents calls it so)
    ) -> float:
        return 1.0 if await self.responder.complete(last_user_text(chat_ctx)) else 0.0
