"""POST /v1/livekit/token and the way back from a participant to its user."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from livekit import api
from pydantic import SecretStr

from agent.auth import TokenError
from agent.rooms import AUDIENCE, participant_user
from agent.services import Services
from agent.settings import Settings
from agent.worker import room_owner
from store.models import User

KEY, SECRET = "APIlifeos", "a-livekit-secret-of-some-length-0123456789"


@pytest.fixture
def livekit(services: Services) -> Services:
    services.settings = services.settings.model_copy(
        update={
            "livekit_url": "wss://livekit.example.com",
            "livekit_api_key": KEY,
            "livekit_api_secret": SecretStr(SECRET),
        }
    )
    return services


async def test_room_token_names_the_user_and_dispatches_the_agent(
    livekit: Services, client: httpx.AsyncClient, auth: dict, user: User
) -> None:
    answer = await client.post("/v1/livekit/token", headers=auth, json={"room": "kitchen"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["url"] == "wss://livekit.example.com"
    claims = api.TokenVerifier(KEY, SECRET).verify(body["token"])  # LiveKit's own check
    assert claims.identity == body["identity"] == f"lifeos-{user.id}"
    assert claims.video is not None and claims.video.room_join
    assert claims.video.room == body["room"] == f"lifeos-{user.id}-kitchen"
    assert [a.agent_name for a in claims.room_config.agents] == ["lifeos"]
    # the worker finds the user from the room and the participant it meets there
    assert room_owner(body["room"]) == user.id
    found = participant_user(livekit.tokens, body["room"], claims.identity, claims.metadata)
    assert found == user.id
    # the note in the metadata, which other participants see, is no API token
    note = json.loads(claims.metadata)["lifeos"]
    refused = await client.get("/v1/me", headers={"Authorization": f"Bearer {note}"})
    assert refused.status_code == 401


async def test_notes_for_another_room_or_not_ours_are_refused(
    livekit: Services, user: User
) -> None:
    room = f"lifeos-{user.id}-home"
    note = livekit.tokens.seal(user.id, AUDIENCE, timedelta(minutes=5), room=room)
    metadata = json.dumps({"lifeos": note})
    with pytest.raises(TokenError, match="another room"):
        participant_user(livekit.tokens, f"lifeos-{user.id}-kitchen", f"lifeos-{user.id}", metadata)
    with pytest.raises(TokenError, match="no Life OS note"):
        participant_user(livekit.tokens, room, f"lifeos-{user.id}", "")  # minted elsewhere
    forged = livekit.tokens.issue(user.id)  # an API token is not a note
    with pytest.raises(TokenError):
        participant_user(livekit.tokens, room, f"lifeos-{user.id}", json.dumps({"lifeos": forged}))


async def test_room_token_refused_when_livekit_is_not_set_up_or_bad_room(
    services: Services, client: httpx.AsyncClient, auth: dict
) -> None:
    answer = await client.post("/v1/livekit/token", headers=auth)
    assert answer.status_code == 503
    assert "LIVEKIT_URL" in answer.json()["detail"]
    assert (await client.post("/v1/livekit/token")).status_code == 401
    services.settings = services.settings.model_copy(
        update={
            "livekit_url": "ws://x",
            "livekit_api_key": KEY,
            "livekit_api_secret": SecretStr(SECRET),
        }
    )
    bad = await client.post("/v1/livekit/token", headers=auth, json={"room": "../Other Room"})
    assert bad.status_code == 422


def test_livekit_settings_read_livekit_s_own_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_URL", "wss://lk.example.com")
    monkeypatch.setenv("LIVEKIT_API_KEY", KEY)
    monkeypatch.setenv("LIVEKIT_API_SECRET", SECRET)
    settings = Settings()
    assert settings.livekit_configured and settings.livekit_url == "wss://lk.example.com"
    assert SECRET not in repr(settings)  # a secret stays out of logs
