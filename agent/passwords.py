"""Passwords, kept as argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory
choice). Hashing takes tens of milliseconds of CPU on purpose: it runs on a thread."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 200  # argon2 takes any length; a megabyte "password" is a CPU attack

_hasher = PasswordHasher()


@cache
def _absent() -> str:
    """Checked against when the account does not exist or has no password, so that
    the answer takes as long either way and timing does not tell which accounts exist."""
    return _hasher.hash("an account that is not there")


def weakness(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password may have at most {MAX_LENGTH} characters"
    if len(set(password)) < 4:
        return "a password needs more than a few different characters"
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches the stored hash; False (after the same work)
    when it does not or when nothing is stored."""

    def check() -> bool:
        try:
            return _hasher.verify(stored or _absent(), password[:MAX_LENGTH]) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
