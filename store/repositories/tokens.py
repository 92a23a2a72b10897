"""Recording issued tokens and revoking them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models.tokens import MAX_LABEL, IssuedToken

__all__ = ["IssuedToken", "active", "is_revoked", "record", "revoke", "revoke_all"]
from store.types import utcnow


def record(
    session: AsyncSession,
    jti: str,
    user_id: uuid.UUID,
    label: str,
    expires_at: datetime,
    *,
    revoked: bool = False,
) -> IssuedToken:
    row = IssuedToken(
        jti=jti,
        user_id=user_id,
        label=label[:MAX_LABEL],
        expires_at=expires_at,
        revoked_at=utcnow() if revoked else None,
    )
    session.add(row)
    return row


async def is_revoked(session: AsyncSession, jti: str | None) -> bool:
    """A token not on record (issued by code that does not record, as the tests and
    the harness do) counts; one on record counts until it is revoked."""
    if not jti:
        return False
    row = await session.get(IssuedToken, jti)
    return row is not None and row.revoked_at is not None


async def revoke(session: AsyncSession, jti: str, user_id: uuid.UUID | None = None) -> bool:
    """Revoke one token (only the given user's, when a user is given); True if it was
    on record and had not been revoked yet."""
    statement = (
        update(IssuedToken)
        .where(col(IssuedToken.jti) == jti, col(IssuedToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    if user_id is not None:
        statement = statement.where(col(IssuedToken.user_id) == user_id)
    result = await session.exec(statement)  # type: ignore[call-overload]
    return bool(result.rowcount)


async def revoke_all(session: AsyncSession, user_id: uuid.UUID, keep: str | None = None) -> int:
    """Revoke every token of the user still counting but ``keep`` (a token id); how
    many were."""
    statement = (
        update(IssuedToken)
        .where(col(IssuedToken.user_id) == user_id, col(IssuedToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    if keep is not None:
        statement = statement.where(col(IssuedToken.jti) != keep)
    result = await session.exec(statement)  # type: ignore[call-overload]
    return int(result.rowcount)


async def active(session: AsyncSession, user_id: uuid.UUID) -> list[IssuedToken]:
    """The user's tokens that still count, newest first."""
    result = await session.exec(
        select(IssuedToken)
        .where(
            col(IssuedToken.user_id) == user_id,
            col(IssuedToken.revoked_at).is_(None),
            col(IssuedToken.expires_at) > utcnow(),
        )
        .order_by(col(IssuedToken.created_at).desc())
    )
    return list(result.all())
