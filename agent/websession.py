"""The web page's session: two HttpOnly cookies, never a token the page's script can
read. ``lifeos_session`` holds a short-lived access token (a JWT on record, so it is
revoked like any other); ``lifeos_refresh`` (sent to /v1/auth only) holds a refresh
token that is spent on use and replaced by the next of its family. A spent one
brought again means it was copied: the whole family, and every access token handed
out with it, is revoked.

Requests made with the cookie that change something must carry the session's CSRF
token in X-CSRF-Token (derived from the family: the page reads it from the sign-in
answer or GET /v1/auth/session, which another site cannot read) and, when the
browser says where it comes from, an Origin of this service."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import ip_address

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection
from starlette.responses import Response

from agent.auth import TokenService, issue_recorded
from store.models.signin import RefreshToken
from store.repositories import signin as records
from store.repositories import tokens as issued
from store.types import utcnow

ACCESS_COOKIE = "lifeos_session"
REFRESH_COOKIE = "lifeos_refresh"
CSRF_HEADER = "X-CSRF-Token"
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
REFRESH_PATH = "/v1/auth"  # the refresh token goes to the auth routes only


class SessionRefused(Exception):
    """The refresh token is unknown, expired, revoked or was already spent."""


@dataclass(frozen=True)
class Grant:
    access: str
    refresh: str
    family: str
    csrf: str


def csrf_token(tokens: TokenService, family: str) -> str:
    return tokens.fingerprint("csrf", family)[:32]


def csrf_ok(tokens: TokenService, family: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_token(tokens, family), given)


def _hash(refresh: str) -> str:
    return hashlib.sha256(refresh.encode()).hexdigest()


def start(
    session: AsyncSession, tokens: TokenService, user_id: uuid.UUID, family: str | None = None
) -> Grant:
    """A new access token and refresh token: a new session, or the next of ``family``."""
    family = family or secrets.token_hex(16)
    access, row = issue_recorded(
        session, tokens, user_id, "web page", ttl=ACCESS_TTL, family=family
    )
    refresh = secrets.token_urlsafe(32)
    records.add_refresh(session, _hash(refresh), user_id, family, row.jti, utcnow() + REFRESH_TTL)
    return Grant(access, refresh, family, csrf_token(tokens, family))


async def rotate(session: AsyncSession, tokens: TokenService, refresh: str) -> Grant:
    """Spend a refresh token for the next pair; raise SessionRefused otherwise (after
    revoking the family, when a spent token came back)."""
    row = await session.get(RefreshToken, _hash(refresh))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise SessionRefused("the session has ended; sign in again")
    if not await records.use_refresh(session, row.token_hash):
        await end(session, family=row.family)
        raise SessionRefused("that session was used elsewhere: it has been signed out")
    await issued.revoke(session, row.access_jti)  # the access token it replaces
    return start(session, tokens, row.user_id, row.family)


async def end(
    session: AsyncSession,
    *,
    family: str | None = None,
    user_id: uuid.UUID | None = None,
    keep: str | None = None,
) -> None:
    """Revoke a session (its refresh family and access tokens), or all of a user's
    but the one of family ``keep``."""
    revoked = await records.revoke_families(session, family=family, user_id=user_id, keep=keep)
    for jti in revoked:
        await issued.revoke(session, jti)


def secure(connection: HTTPConnection) -> bool:
    """Cookies are Secure except over plain http to this machine (development on
    loopback), where a Secure cookie would never be sent back."""
    if connection.url.scheme in ("https", "wss"):
        return True
    host = connection.url.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ip_address(host).is_loopback
    except ValueError:
        return True


def set_cookies(response: Response, grant: Grant, secure_cookies: bool) -> None:
    response.set_cookie(
        ACCESS_COOKIE,
        grant.access,
        max_age=int(REFRESH_TTL.total_seconds()),  # an expired one asks for a refresh
        httponly=True,
        secure=secure_cookies,
        samesite="strict",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        grant.refresh,
        max_age=int(REFRESH_TTL.total_seconds()),
        path=REFRESH_PATH,
        httponly=True,
        secure=secure_cookies,
        samesite="strict",
    )


def clear_cookies(response: Response, secure_cookies: bool) -> None:
    response.delete_cookie(ACCESS_COOKIE, httponly=True, secure=secure_cookies, samesite="strict")
    response.delete_cookie(
        REFRESH_COOKIE,
        path=REFRESH_PATH,
        httponly=True,
        secure=secure_cookies,
        samesite="strict",
    )


def same_origin(connection: HTTPConnection, public_url: str | None) -> bool:
    """The browser's Origin header names this service (or its public address); a
    request without one (not a browser, or a same-origin GET) passes."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    scheme = "https" if connection.url.scheme in ("https", "wss") else "http"
    own = f"{scheme}://{connection.headers.get('host', '')}"
    return origin in (own, public_url)
