"""LiveKit rooms for our users: the token a client joins a room with, and the way
back from a participant the worker meets to the user it speaks for.

The LiveKit token names the participant `lifeos-<user id>` and carries in its
metadata a note sealed with our own signing secret for this room and identity. The
LiveKit server vouches only that someone with the API key minted the token (the
cloud console, a SIP trunk's rules and other tools can); the note says it was us.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agent.auth import TokenError, TokenService
from agent.settings import Settings

AUDIENCE = "lifeos-livekit-participant"
IDENTITY_PREFIX = "lifeos-"
ROOM_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,31}$")
DEFAULT_ROOM = "home"
TOKEN_TTL = timedelta(hours=6)


class LiveKitNotConfigured(Exception):
    """LIVEKIT_URL, LIVEKIT_API_KEY or LIVEKIT_API_SECRET is missing."""


@dataclass(frozen=True)
class RoomToken:
    url: str  # the LiveKit server the client connects to
    room: str
    identity: str
    token: str
    expires_at: datetime


def identity_of(user_id: uuid.UUID) -> str:
    return f"{IDENTITY_PREFIX}{user_id}"


def room_of(user_id: uuid.UUID, name: str) -> str:
    """A user's rooms are named after them: no token of ours joins another's room."""
    return f"{IDENTITY_PREFIX}{user_id}-{name}"


def room_token(
    settings: Settings, tokens: TokenService, user_id: uuid.UUID, name: str = DEFAULT_ROOM
) -> RoomToken:
    """A token to join the user's room ``name``, which dispatches our agent to it."""
    from livekit import api  # its protocol buffers take a second to import: not at start-up

    if not settings.livekit_configured:
        raise LiveKitNotConfigured
    assert settings.livekit_url and settings.livekit_api_key and settings.livekit_api_secret
    room, identity = room_of(user_id, name), identity_of(user_id)
    note = tokens.seal(user_id, AUDIENCE, TOKEN_TTL, room=room)
    dispatch = api.RoomAgentDispatch(agent_name=settings.livekit_agent_name)
    token = (
        api.AccessToken(settings.livekit_api_key, settings.livekit_api_secret.get_secret_value())
        .with_identity(identity)
        .with_metadata(json.dumps({"lifeos": note}))
        .with_ttl(TOKEN_TTL)
        .with_grants(api.VideoGrants(room_join=True, room=room))
        .with_room_config(api.RoomConfiguration(agents=[dispatch]))
    )
    expires = datetime.now(UTC) + TOKEN_TTL
    return RoomToken(settings.livekit_url, room, identity, token.to_jwt(), expires)


def participant_user(tokens: TokenService, room: str, identity: str, metadata: str) -> uuid.UUID:
    """The user a participant speaks for, from the note in its metadata; TokenError
    when there is none, or it is not ours, or it was made for another room or
    participant."""
    try:
        note = json.loads(metadata or "{}").get("lifeos")
    except (ValueError, AttributeError):
        note = None
    if not isinstance(note, str):
        raise TokenError("the participant carries no Life OS note")
    claims = tokens.unseal(note, AUDIENCE)
    user_id = uuid.UUID(claims["sub"])
    if claims.get("room") != room or identity != identity_of(user_id):
        raise TokenError("the participant's note was made for another room or participant")
    return user_id
