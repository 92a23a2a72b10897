"""Creating and finding users."""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models.users import User, UserCreate, normalize_email
from store.repositories import audit
from store.repositories.households import create_household, personal_name


class UserConflict(Exception):
    """Another user already has this email or phone number."""


async def create_user(session: AsyncSession, data: UserCreate, *, is_owner: bool = False) -> User:
    """Insert a validated user; raise UserConflict naming the field already taken."""
    if await get_user_by_email(session, data.email):
        raise UserConflict(f"a user with email {data.email} already exists")
    if data.phone and await _phone_taken(session, data.phone):
        raise UserConflict(f"a user with phone {data.phone} already exists")
    user = User(
        email=data.email,
        phone=data.phone,
        name=data.name,
        settings=data.settings().model_dump(mode="json"),
        is_owner=is_owner,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent insert won the race
        await session.rollback()
        raise UserConflict(f"a user with email {data.email} or that phone already exists") from exc
    await create_household(session, personal_name(user), user.id, personal=True)
    audit.record(session, user.id, "users.create", "user", user.id, meta={"owner": is_owner})
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    try:
        normalized = normalize_email(email)
    except ValueError:
        return None
    result = await session.exec(select(User).where(User.email == normalized))
    return result.first()


async def count_users(session: AsyncSession) -> int:
    result = await session.exec(select(func.count()).select_from(User))
    return int(result.one())


async def list_users(session: AsyncSession) -> list[User]:
    result = await session.exec(select(User).order_by(col(User.created_at)))
    return list(result.all())


async def _phone_taken(session: AsyncSession, phone: str) -> bool:
    result = await session.exec(select(User.id).where(User.phone == phone))
    return result.first() is not None
