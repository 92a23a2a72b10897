"""What a device token may do. A token with no scopes (the CLI's, a signed-in page's)
may do whatever its user may; a device's token names what it is for, and a request
outside all of its scopes is refused with 403 before any handler runs."""

from __future__ import annotations

from typing import Literal

Scope = Literal["read", "voice", "speaker"]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
VOICE_SOCKET = "/v1/voice"
# Talking to the assistant: the voice socket, typed text, and who am I.
_VOICE = {("GET", VOICE_SOCKET), ("POST", "/v1/converse"), ("GET", "/v1/me")}
# A speaker also shows what is coming up (its display or its morning summary),
# never the money.
_SPEAKER_READS = ("/v1/tasks", "/v1/lists", "/v1/events", "/v1/reminders")


def allows(scopes: frozenset[str] | None, method: str, path: str) -> bool:
    """Whether a token with these scopes may make this request. The voice socket
    counts as ``GET /v1/voice``."""
    if scopes is None:
        return True
    return any(_allowed(scope, method.upper(), path) for scope in scopes)


def _allowed(scope: str, method: str, path: str) -> bool:
    if scope == "read":
        return method in SAFE_METHODS and path != VOICE_SOCKET
    if scope == "voice":
        return (method, path) in _VOICE
    if scope == "speaker":
        reading = method in SAFE_METHODS and path.startswith(_SPEAKER_READS)
        return (method, path) in _VOICE or reading
    return False  # a scope this version does not know grants nothing


def refusal(scopes: frozenset[str], method: str, path: str) -> str:
    return f"this token is for {', '.join(sorted(scopes))} only: it may not {method} {path}"
