"""The API knows who is calling from a signed token, and says why it refuses one."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from agent.auth import TokenService, load_or_create_secret
from agent.services import Services
from store.database import session_scope
from store.models import User


async def test_token_resolves_the_user(client: httpx.AsyncClient, auth: dict, user: User) -> None:
    response = await client.get("/v1/me", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "ann@example.com"
    assert body["id"] == str(user.id)
    assert body["settings"]["timezone"] == "America/Chicago"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def tampered(token: str, user_id: uuid.UUID) -> str:
    header, _payload, signature = token.split(".")
    now = int(datetime.now(UTC).timestamp())
    forged = {"sub": str(user_id), "iss": "lifeos", "iat": now, "exp": now + 3600}
    return f"{header}.{_b64(forged)}.{signature}"


def unsigned(user_id: uuid.UUID) -> str:
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": str(user_id), "iss": "lifeos", "iat": now, "exp": now + 3600}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda s, u: tampered(s.tokens.issue(u.id), uuid.uuid4()), "signature is not valid"),
        (
            lambda s, u: s.tokens.issue(u.id, now=datetime.now(UTC) - timedelta(days=2)),
            "token has expired",
        ),
        (
            lambda s, u: TokenService("another-key-" + "x" * 40, timedelta(days=1)).issue(u.id),
            "signature is not valid",
        ),
        (lambda s, u: unsigned(u.id), "algorithm is not allowed"),
        (
            lambda s, u: jwt.encode({"sub": str(u.id)}, "k" * 64, algorithm="HS512"),
            "algorithm is not allowed",
        ),
        (lambda s, u: "not.a.token", "token is malformed"),
        (
            lambda s, u: TokenService(
                s.settings.jwt_secret.get_secret_value(), timedelta(days=1)
            ).issue(uuid.uuid4()),
            "user that does not exist",
        ),
    ],
    ids=["tampered", "expired", "other-key", "alg-none", "other-alg", "garbage", "no-such-user"],
)
async def test_bad_tokens_get_401_with_a_reason(
    client: httpx.AsyncClient, services: Services, user: User, make_token, reason: str
) -> None:
    response = await client.get(
        "/v1/me", headers={"Authorization": f"Bearer {make_token(services, user)}"}
    )
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_missing_token_gets_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "missing bearer token"


async def test_token_of_a_deleted_user_stops_working(
    client: httpx.AsyncClient, services: Services, user: User, auth: dict
) -> None:
    async with session_scope(services.sessions) as session:
        await session.delete(await session.get(User, user.id))
    response = await client.get("/v1/me", headers=auth)
    assert response.status_code == 401


def test_generated_secret_is_kept_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "jwt-secret"
    first = load_or_create_secret(path)
    assert len(first) >= 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(path) == first
