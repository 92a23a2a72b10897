"""Bearer tokens: signed JWTs naming the user, with an expiry and an id (``jti``) by
which an issued token is recorded and can be revoked."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from sqlmodel.ext.asyncio.session import AsyncSession

from agent.settings import secret_weakness
from store.models.tokens import IssuedToken
from store.repositories import tokens as issued

ALGORITHM = "HS256"
ISSUER = "lifeos"


class TokenError(Exception):
    """A token was refused; the message says why, for the 401 answer."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    jti: str | None  # every token issued here has one; None only for a foreign shape
    expires_at: datetime
    # A web page's session (agent/websession.py): its refresh family, by which the
    # page's CSRF token is derived and the session is signed out. None for bearer tokens.
    family: str | None = None
    # What a device token may do (agent/scopes.py); None: whatever its user may.
    scopes: frozenset[str] | None = None


class TokenService:
    def __init__(self, secret: str, ttl: timedelta) -> None:
        self._secret = secret
        self._ttl = ttl

    def mint(
        self,
        user_id: uuid.UUID,
        *,
        now: datetime | None = None,
        ttl: timedelta | None = None,
        family: str | None = None,
        scopes: frozenset[str] | None = None,
    ) -> tuple[str, TokenClaims]:
        """A new token for the user, and what it says."""
        issued_at = now or datetime.now(UTC)
        claims = TokenClaims(
            user_id, secrets.token_hex(16), issued_at + (ttl or self._ttl), family, scopes
        )
        payload: dict[str, object] = {
            "sub": str(user_id),
            "iss": ISSUER,
            "iat": issued_at,
            "exp": claims.expires_at,
            "jti": claims.jti,
        }
        if family is not None:
            payload["fam"] = family
        if scopes is not None:
            payload["scope"] = " ".join(sorted(scopes))
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims

    def fingerprint(self, purpose: str, value: str) -> str:
        """A keyed hash of ``value`` (a one-time code, a CSRF token's session): kept or
        compared instead of the value, and worthless without the signing secret, so a
        copy of the database does not give six-digit codes away to a quick search."""
        message = f"{purpose}:{value}".encode()
        return hmac.new(self._secret.encode(), message, hashlib.sha256).hexdigest()

    def seal(self, user_id: uuid.UUID, audience: str, ttl: timedelta, **claims: str) -> str:
        """A signed note naming the user for one other party (``audience``) only: it
        is no bearer token (``claims`` refuses a token with an audience)."""
        now = datetime.now(UTC)
        payload = {"sub": str(user_id), "iss": ISSUER, "aud": audience, "iat": now}
        payload |= {"exp": now + ttl, **claims}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def unseal(self, note: str, audience: str) -> dict[str, str]:
        """What a note sealed for ``audience`` says, or raise TokenError."""
        try:
            return jwt.decode(
                note,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                audience=audience,
                options={"require": ["sub", "exp", "aud"]},
            )
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"the note is not valid: {exc}") from exc

    def issue(self, user_id: uuid.UUID, *, now: datetime | None = None) -> str:
        """A token not put on record (tests and tools that need a signed token)."""
        return self.mint(user_id, now=now)[0]

    def verify(self, token: str) -> uuid.UUID:
        """Return the user id the token was issued for, or raise TokenError."""
        return self.claims(token).user_id

    def claims(self, token: str) -> TokenClaims:
        """What a well-signed, unexpired token of ours says, or raise TokenError.
        Whether it was revoked is the store's to say: see ``revoked``."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],  # pinned: refuses "none" and key-confusion tricks
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token has expired") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise TokenError("token algorithm is not allowed") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("token signature is not valid") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"token lacks the {exc.claim!r} claim") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenError("token was not issued by this service") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError("token is malformed") from exc
        try:
            user_id = uuid.UUID(claims["sub"])
        except (ValueError, TypeError, AttributeError) as exc:
            raise TokenError("token subject is not a user id") from exc
        jti = claims.get("jti")
        expires = datetime.fromtimestamp(claims["exp"], UTC)
        family = claims.get("fam")
        scope = claims.get("scope")
        return TokenClaims(
            user_id,
            jti if isinstance(jti, str) else None,
            expires,
            family if isinstance(family, str) else None,
            frozenset(scope.split()) if isinstance(scope, str) else None,
        )


def issue_recorded(
    session: AsyncSession,
    tokens: TokenService,
    user_id: uuid.UUID,
    label: str,
    *,
    ttl: timedelta | None = None,
    family: str | None = None,
    scopes: frozenset[str] | None = None,
) -> tuple[str, IssuedToken]:
    """A token put on record, so that it can be listed and revoked, and its record."""
    token, claims = tokens.mint(user_id, ttl=ttl, family=family, scopes=scopes)
    assert claims.jti is not None
    return token, issued.record(session, claims.jti, user_id, label, claims.expires_at)


async def check_not_revoked(session: AsyncSession, claims: TokenClaims) -> None:
    if await issued.is_revoked(session, claims.jti):
        raise TokenError("token has been revoked")


def load_or_create_secret(path: Path) -> str:
    """Read the signing secret from ``path``, creating it (mode 600) on first use.

    O_EXCL makes creation atomic: when two processes start together, one writes and
    the other reads what it wrote, so both sign with the same key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = path.read_text().strip()
        problem = secret_weakness(existing)
        if problem:
            raise TokenError(
                f"the token secret in {path} {problem}; delete it to make a new one"
            ) from None
        return existing
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
