"""Bearer tokens: signed JWTs naming the user, with an expiry."""

from __future__ import annotations

import os
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from agent.settings import secret_weakness

ALGORITHM = "HS256"
ISSUER = "lifeos"


class TokenError(Exception):
    """A token was refused; the message says why, for the 401 answer."""


class TokenService:
    def __init__(self, secret: str, ttl: timedelta) -> None:
        self._secret = secret
        self._ttl = ttl

    def issue(self, user_id: uuid.UUID, *, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "iss": ISSUER,
            "iat": issued,
            "exp": issued + self._ttl,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> uuid.UUID:
        """Return the user id the token was issued for, or raise TokenError."""
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
            return uuid.UUID(claims["sub"])
        except (ValueError, TypeError, AttributeError) as exc:
            raise TokenError("token subject is not a user id") from exc


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
