"""The composition root's container: the live objects one running service shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from agent.auth import TokenService, load_or_create_secret
from agent.settings import Settings
from store.database import create_engine, session_factory


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tokens: TokenService

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine | None = None) -> Services:
        engine = engine or create_engine(settings.resolved_database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            tokens=token_service(settings),
        )

    async def close(self) -> None:
        await self.engine.dispose()


def token_service(settings: Settings) -> TokenService:
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
    else:
        secret = load_or_create_secret(settings.secret_file)
    return TokenService(secret, timedelta(days=settings.token_ttl_days))
