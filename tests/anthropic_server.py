"""A local server that speaks the Anthropic Messages API (plain and streaming, with
tool use), so the real anthropic client can be tested without the internet."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tests.local_server import serve


@dataclass
class Script:
    """How the fake model answers: a function from the user's text to (tool, input)."""

    answer: Callable[[str], tuple[str, dict[str, Any]]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0
    fail_with: int | None = None
    answered: int = 0  # requests that got an answer (a timed-out client never sees one)


def _message(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_local",
        "type": "message",
        "role": "assistant",
        "model": "claude-local",
        "content": [{"type": "tool_use", "id": "toolu_local", "name": tool, "input": args}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


def _events(tool: str, args: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    text = json.dumps(args)
    start = _message(tool, {})
    start["content"], start["stop_reason"] = [], None
    pieces = [text[i : i + 12] for i in range(0, len(text), 12)] or ["{}"]
    return [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_local",
                    "name": tool,
                    "input": {},
                },
            },
        ),
        *[
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                },
            )
            for piece in pieces
        ],
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 5},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


def build_app(script: Script) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/messages", response_model=None)
    async def messages(request: Request) -> JSONResponse | StreamingResponse:
        body = await request.json()
        script.requests.append(body)
        if script.delay:
            await asyncio.sleep(script.delay)
        if script.fail_with:
            return JSONResponse(
                status_code=script.fail_with,
                content={
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                },
            )
        script.answered += 1
        said = body["messages"][-1]["content"]
        tool, args = script.answer(said if isinstance(said, str) else said[0]["text"])
        if not body.get("stream"):
            return JSONResponse(_message(tool, args))

        async def stream() -> AsyncIterator[bytes]:
            for name, data in _events(tool, args):
                yield f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

        return StreamingResponse(stream(), media_type="text/event-stream")

    return app


def anthropic_server(script: Script) -> AbstractAsyncContextManager[str]:
    return serve(build_app(script))
