"""The service's key material: the token-signing secret, the key ring that seals
stored credentials, and `lifeos keys rotate`, which re-seals every stored credential
under a new key and retires the old ones (the signing secret is not touched, so
tokens keep working). Light to import: backups and the CLI use it without the
service stack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from agent.auth import load_or_create_secret
from agent.settings import Settings
from skills.files import FileStore, file_store_at
from skills.sealing import KeyRing, new_key_id
from store.database import session_factory, session_scope
from store.models.calendar import CalendarAccount
from store.models.finance import BankLink
from store.models.webhooks import WebhookSubscription


def token_secret(settings: Settings) -> str:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    return load_or_create_secret(settings.secret_file)


def credential_keys(settings: Settings, signing_secret: str | None = None) -> KeyRing:
    """The key ring that seals stored credentials. Values sealed before the ring
    existed open with the key once derived from the signing secret."""
    legacy = derive_key(signing_secret or token_secret(settings), "credentials")
    return KeyRing.load(settings.key_file, legacy=legacy)


def file_store(settings: Settings) -> FileStore:
    """The local files folder, or the S3 bucket LIFEOS_FILES_URL names."""
    return file_store_at(settings.files_url or settings.files_dir, settings.s3_endpoint_url)


def derive_key(secret: str, purpose: str) -> bytes:
    """A separate 32-byte key per purpose, so one key never serves two jobs."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


# Every table column that holds a sealed value: one list, read by rotation and tests.
SEALED_COLUMNS = (
    (CalendarAccount, "password_sealed"),
    (BankLink, "access_token_sealed"),
    (WebhookSubscription, "secret_sealed"),
)


class RotationError(Exception):
    """Rotation stopped and changed nothing stored; the message is for an operator."""


@dataclass(frozen=True)
class Rotation:
    new_key: str
    retired: list[str]
    resealed: int


async def rotate(engine: AsyncEngine, ring: KeyRing) -> Rotation:
    """Add a new current key to the ring's file, re-seal every credential under it in
    one transaction, then drop the other keys from the file.

    The file is written before the transaction and trimmed only after it commits: a
    crash at any point leaves every stored value readable by the keys in the file."""
    assert ring.path is not None
    retired = sorted(ring.keys)
    key_id = new_key_id()
    ring.keys[key_id] = secrets.token_bytes(32)
    ring.current = key_id
    await asyncio.to_thread(ring.save)
    resealed = await _reseal_all(engine, ring)
    ring.keys = {key_id: ring.keys[key_id]}
    ring.legacy = None  # nothing is sealed without a key id any more
    await asyncio.to_thread(ring.save)
    return Rotation(new_key=key_id, retired=retired, resealed=resealed)


async def _reseal_all(engine: AsyncEngine, ring: KeyRing) -> int:
    count = 0
    async with session_scope(session_factory(engine)) as db:
        for model, column in SEALED_COLUMNS:
            rows = (await db.exec(select(model).with_for_update())).all()
            for row in rows:
                try:
                    plain = ring.unseal(getattr(row, column))
                except InvalidToken:
                    raise RotationError(
                        f"a stored credential ({model.__tablename__} {row.id}) opens with "
                        "no key this service has (was the token secret changed before the "
                        "first rotation?); nothing was changed"
                    ) from None
                setattr(row, column, ring.seal(plain))
                db.add(row)
                count += 1
    return count


async def unseal_all(engine: AsyncEngine, ring: KeyRing) -> int:
    """Open every stored credential (a restore's check that the keys came along);
    RotationError names the first that does not open."""
    count = 0
    async with session_factory(engine)() as db:
        for model, column in SEALED_COLUMNS:
            for row in (await db.exec(select(model))).all():
                try:
                    ring.unseal(getattr(row, column))
                except InvalidToken:
                    raise RotationError(
                        f"a stored credential ({model.__tablename__} {row.id}) opens with "
                        "no key in the restored key file"
                    ) from None
                count += 1
    return count
