"""The composition root's container: the live objects one running service shares."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from agent.auth import TokenService, load_or_create_secret
from agent.settings import Settings
from skills.files import FileStore, LocalFileStore
from skills.finance.bank import plaid_client
from store.database import create_engine, session_factory


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tokens: TokenService
    secret_key: bytes  # encrypts credentials kept at rest (CalDAV passwords, bank tokens)
    files: FileStore
    bank: Any = None  # a PlaidApi when Plaid is configured

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine | None = None) -> Services:
        engine = engine or create_engine(settings.resolved_database_url)
        signing_secret = token_secret(settings)
        return cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            tokens=TokenService(signing_secret, timedelta(days=settings.token_ttl_days)),
            secret_key=derive_key(signing_secret, "credentials"),
            files=LocalFileStore(settings.files_dir),
            bank=bank_client(settings),
        )

    async def close(self) -> None:
        await self.engine.dispose()


def bank_client(settings: Settings) -> Any:
    if not (settings.plaid_client_id and settings.plaid_secret):
        return None
    return plaid_client(
        settings.plaid_address, settings.plaid_client_id, settings.plaid_secret.get_secret_value()
    )


def token_secret(settings: Settings) -> str:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    return load_or_create_secret(settings.secret_file)


def token_service(settings: Settings) -> TokenService:
    return TokenService(token_secret(settings), timedelta(days=settings.token_ttl_days))


def derive_key(secret: str, purpose: str) -> bytes:
    """A separate 32-byte key per purpose, so one key never serves two jobs."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
