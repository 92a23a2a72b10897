"""What a device token may do. A token with no scopes (the CLI's, a signed-in page's)
may do whatever its user may; a device's token names what it is for.

Two checks, one for each thing a scope limits. Which endpoints a token may call
(``allows``): a request outside all of its scopes is refused with 403 before any
handler runs. And what the skills may do for it (``reach``): whatever channel the
token talks through (the voice socket, /v1/converse), the context the skills run
with carries it, and each action declares the capability it needs
(skills.actions.Action.needs), so a speaker asking for money is told no in words.
"""

from __future__ import annotations

from typing import Literal

from skills.access import READS, Capability, Reach

Scope = Literal["read", "voice", "speaker"]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
VOICE_SOCKET = "/v1/voice"
# Every GraphQL operation comes as a POST (or over a socket opened with a GET): the
# door asks only whether the token may look here; each mutation is then judged as the
# change it is (agent.graphql.schema.TokenScopes).
GRAPHQL = "/graphql"
CONVERSE = ("POST", "/v1/converse")
# Talking to the assistant: the voice socket, typed text, and who am I.
_VOICE = {("GET", VOICE_SOCKET), CONVERSE, ("GET", "/v1/me")}
# A speaker also shows what is coming up (its display or its morning summary),
# never the money.
_SPEAKER_READS = ("/v1/tasks", "/v1/lists", "/v1/events", "/v1/reminders")

_C = Capability
# What each scope lets the skills do; None: all its user may.
_GRANTS: dict[str, frozenset[Capability] | None] = {
    "read": READS,  # asks anything; changes nothing
    "voice": None,
    # The household's lists, reminders and calendar; the names of its jobs, which
    # money talk is understood by, but not their money.
    "speaker": frozenset(
        {
            _C.LISTS_READ,
            _C.LISTS_EDIT,
            _C.LISTS_MANAGE,
            _C.CALENDAR_READ,
            _C.CALENDAR_WRITE,
            _C.CALENDAR_MANAGE,
            _C.PROJECTS_READ,
        }
    ),
}


def allows(scopes: frozenset[str] | None, method: str, path: str) -> bool:
    """Whether a token with these scopes may make this request. The voice socket
    counts as ``GET /v1/voice``."""
    if scopes is None:
        return True
    return any(_allowed(scope, method.upper(), path) for scope in scopes)


def _allowed(scope: str, method: str, path: str) -> bool:
    if scope == "read":  # questions in text too: reach() keeps them to looking
        return (method in SAFE_METHODS and path != VOICE_SOCKET) or (method, path) == CONVERSE
    if scope == "voice":
        return (method, path) in _VOICE
    if scope == "speaker":
        reading = method in SAFE_METHODS and path.startswith(_SPEAKER_READS)
        return (method, path) in _VOICE or reading
    return False  # a scope this version does not know grants nothing


def reach(scopes: frozenset[str] | None) -> Reach | None:
    """What the skills may do for a token with these scopes (any of them grants);
    None: all its user may."""
    if scopes is None:
        return None
    granted: set[Capability] = set()
    for scope in scopes:
        grants = _GRANTS.get(scope, frozenset())  # an unknown scope grants nothing
        if grants is None:
            return None
        granted |= grants
    device = "this speaker" if "speaker" in scopes else "this device"
    return Reach(frozenset(granted), device)


def refusal(scopes: frozenset[str], method: str, path: str) -> str:
    return f"this token is for {', '.join(sorted(scopes))} only: it may not {method} {path}"
