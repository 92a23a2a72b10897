"""One-time codes: six digits sent by email or SMS to sign in or to reset a password,
and the long secret in the owner's set-password link. Stored only as a keyed hash;
each is used once, for a short time, with a few attempts."""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from agent.auth import TokenService
from store.models.signin import CodePurpose
from store.repositories import signin as records
from store.types import utcnow

CODE_LIFETIME = timedelta(minutes=10)
LINK_LIFETIME = timedelta(hours=24)
MAX_ATTEMPTS = 5  # wrong guesses at one code; then it is spent and a new one is needed
DIGITS = 6


async def new_code(
    session: AsyncSession, tokens: TokenService, user_id: uuid.UUID, purpose: CodePurpose
) -> str:
    """A fresh code for the user (the earlier one for this purpose stops counting):
    six digits to type, or for a link a secret nobody types."""
    if purpose is CodePurpose.SETUP:
        code, lifetime = secrets.token_urlsafe(32), LINK_LIFETIME
    else:
        code, lifetime = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}", CODE_LIFETIME
    hashed = tokens.fingerprint(purpose.value, code)
    await records.add_code(session, user_id, purpose, hashed, utcnow() + lifetime)
    return code


async def redeem(
    session: AsyncSession,
    tokens: TokenService,
    user_id: uuid.UUID,
    purpose: CodePurpose,
    code: str,
) -> bool:
    """Spend the user's pending code if ``code`` is it. A wrong guess counts, and is
    kept even though the request then fails (the caller commits it)."""
    pending = await records.pending_code(session, user_id, purpose)
    if pending is None or pending.expires_at <= utcnow() or pending.attempts >= MAX_ATTEMPTS:
        return False
    given = tokens.fingerprint(purpose.value, "".join(code.split()))
    if not hmac.compare_digest(given, pending.code_hash):
        await records.count_attempt(session, pending.id)
        return False
    return await records.use_code(session, pending.id)


async def redeem_link(
    session: AsyncSession, tokens: TokenService, purpose: CodePurpose, secret: str
) -> uuid.UUID | None:
    """Spend a link's secret; whose it was, or None."""
    found = await records.code_by_hash(session, tokens.fingerprint(purpose.value, secret), purpose)
    if found is None or found.used_at is not None or found.expires_at <= utcnow():
        return None
    return found.user_id if await records.use_code(session, found.id) else None
