"""Each user's phone PIN, kept as a salted scrypt hash: caller ID can be spoofed, so
money is touched over the phone or by text only after the PIN."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import uuid

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from store.database import session_scope
from store.models import PhonePin, User
from store.types import utcnow

PIN_LENGTHS = range(4, 9)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # ~50 ms: slow to guess, quick to check once
_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "for": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}


class PinError(ValueError):
    """A PIN that cannot be set; the message says why."""


def pin_digits(text: str) -> str | None:
    """The digits of a PIN as said or keyed ("1234", "one two three four", "1, 2, 3,
    4."), or None when the words are something else."""
    words = re.findall(r"[a-z]+|\d", text.lower())
    digits = [_WORDS.get(word, word) for word in words]
    if not digits or not all(d.isdigit() for d in digits):
        return None
    joined = "".join(digits)
    return joined if len(joined) in PIN_LENGTHS else None


def _hash(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **_SCRYPT)


def hash_pin(pin: str) -> str:
    if not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        raise PinError(f"a PIN is {PIN_LENGTHS.start} to {PIN_LENGTHS.stop - 1} digits")
    salt = secrets.token_bytes(16)
    encoded = base64.b64encode(salt + _hash(pin, salt)).decode()
    return f"scrypt${encoded}"


def pin_matches(pin: str, stored: str) -> bool:
    raw = base64.b64decode(stored.removeprefix("scrypt$"))
    salt, expected = raw[:16], raw[16:]
    return hmac.compare_digest(_hash(pin, salt), expected)


class Pins:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def set(self, user_id: uuid.UUID, pin: str) -> None:
        hashed = await asyncio.to_thread(hash_pin, pin)
        async with session_scope(self.sessions) as db:
            if await db.get(User, user_id) is None:
                raise PinError("no such user")
            row = await db.get(PhonePin, user_id)
            if row is None:
                db.add(PhonePin(user_id=user_id, pin_hash=hashed))
            else:
                row.pin_hash, row.set_at = hashed, utcnow()

    async def is_set(self, user_id: uuid.UUID) -> bool:
        async with self.sessions() as db:
            return await db.get(PhonePin, user_id) is not None

    async def verify(self, user_id: uuid.UUID, pin: str) -> bool:
        async with self.sessions() as db:
            row = await db.get(PhonePin, user_id)
        if row is None:
            return False
        return await asyncio.to_thread(pin_matches, pin, row.pin_hash)
