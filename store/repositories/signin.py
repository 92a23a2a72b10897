"""Passwords, one-time codes and refresh tokens on record."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models.signin import CodePurpose, OneTimeCode, Password, RefreshToken
from store.models.users import User, normalize_email, normalize_phone
from store.types import utcnow


async def user_by_login(session: AsyncSession, login: str) -> User | None:
    """The user with this email address or phone number (international form)."""
    login = login.strip()
    try:
        if login.startswith("+"):
            where = col(User.phone) == normalize_phone(login)
        else:
            where = col(User.email) == normalize_email(login)
    except ValueError:
        return None
    return (await session.exec(select(User).where(where))).first()


async def password_hash(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    row = await session.get(Password, user_id)
    return row.hash if row is not None else None


async def set_password_hash(session: AsyncSession, user_id: uuid.UUID, hashed: str) -> None:
    row = await session.get(Password, user_id)
    if row is None:
        session.add(Password(user_id=user_id, hash=hashed))
    else:
        row.hash, row.updated_at = hashed, utcnow()
        session.add(row)
    await session.flush()


async def add_code(
    session: AsyncSession,
    user_id: uuid.UUID,
    purpose: CodePurpose,
    code_hash: str,
    expires_at: datetime,
) -> OneTimeCode:
    """A new code; the user's earlier unused ones for the same purpose stop counting,
    so only the latest message sent is worth reading."""
    await session.exec(  # type: ignore[call-overload]
        update(OneTimeCode)
        .where(
            col(OneTimeCode.user_id) == user_id,
            col(OneTimeCode.purpose) == purpose,
            col(OneTimeCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    row = OneTimeCode(user_id=user_id, purpose=purpose, code_hash=code_hash, expires_at=expires_at)
    session.add(row)
    await session.flush()
    return row


async def pending_code(
    session: AsyncSession, user_id: uuid.UUID, purpose: CodePurpose
) -> OneTimeCode | None:
    """The user's latest unused code for this purpose (expired or not)."""
    result = await session.exec(
        select(OneTimeCode)
        .where(
            col(OneTimeCode.user_id) == user_id,
            col(OneTimeCode.purpose) == purpose,
            col(OneTimeCode.used_at).is_(None),
        )
        .order_by(col(OneTimeCode.created_at).desc())
        .limit(1)
    )
    return result.first()


async def code_by_hash(
    session: AsyncSession, code_hash: str, purpose: CodePurpose
) -> OneTimeCode | None:
    result = await session.exec(
        select(OneTimeCode).where(
            col(OneTimeCode.code_hash) == code_hash, col(OneTimeCode.purpose) == purpose
        )
    )
    return result.first()


async def count_attempt(session: AsyncSession, code_id: uuid.UUID) -> None:
    await session.exec(  # type: ignore[call-overload]
        update(OneTimeCode)
        .where(col(OneTimeCode.id) == code_id)
        .values(attempts=col(OneTimeCode.attempts) + 1)
    )


async def use_code(session: AsyncSession, code_id: uuid.UUID) -> bool:
    """Mark the code used; False when another request used it first."""
    result = await session.exec(  # type: ignore[call-overload]
        update(OneTimeCode)
        .where(col(OneTimeCode.id) == code_id, col(OneTimeCode.used_at).is_(None))
        .values(used_at=utcnow())
    )
    return result.rowcount == 1


def add_refresh(
    session: AsyncSession,
    token_hash: str,
    user_id: uuid.UUID,
    family: str,
    access_jti: str,
    expires_at: datetime,
) -> RefreshToken:
    row = RefreshToken(
        token_hash=token_hash,
        user_id=user_id,
        family=family,
        access_jti=access_jti,
        expires_at=expires_at,
    )
    session.add(row)
    return row


async def use_refresh(session: AsyncSession, token_hash: str) -> bool:
    """Spend a refresh token; False when it was spent or revoked already."""
    result = await session.exec(  # type: ignore[call-overload]
        update(RefreshToken)
        .where(
            col(RefreshToken.token_hash) == token_hash,
            col(RefreshToken.used_at).is_(None),
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    return result.rowcount == 1


async def revoke_families(
    session: AsyncSession,
    *,
    family: str | None = None,
    user_id: uuid.UUID | None = None,
    keep: str | None = None,
) -> list[str]:
    """Revoke one family of refresh tokens, or every family of a user but ``keep``;
    the ids of the access tokens handed out with them, for the caller to revoke too."""
    where = (
        col(RefreshToken.family) == family
        if family is not None
        else col(RefreshToken.user_id) == user_id
    )
    if keep is not None:
        where = and_(where, col(RefreshToken.family) != keep)
    rows = (await session.exec(select(RefreshToken).where(where))).all()
    await session.exec(  # type: ignore[call-overload]
        update(RefreshToken)
        .where(where, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return [row.access_jti for row in rows]
