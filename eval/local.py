"""The service in this process on a fresh temporary data folder (or a given database),
migrated, with one new user: what each in-process benchmark starts from."""

from __future__ import annotations

import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from agent.services import Services
from agent.settings import Settings
from skills import offload
from store import migrate
from store.database import session_scope
from store.models import User, UserCreate
from store.repositories.users import create_user


@asynccontextmanager
async def service_with_user(
    database: str | None, *, timezone: str | None = None, **settings: Any
) -> AsyncIterator[tuple[Services, User]]:
    with tempfile.TemporaryDirectory() as tmp:
        services = Services.build(Settings(data_dir=Path(tmp), database_url=database, **settings))
        try:
            await migrate.upgrade(services.engine)
            profile: dict[str, Any] = {"email": f"bench-{time.time_ns()}@example.com"}
            if timezone is not None:
                profile["timezone"] = timezone
            async with session_scope(services.sessions) as db:
                user = await create_user(db, UserCreate(**profile))
            await offload.start()  # as the service's warm-up does
            yield services, user
        finally:
            await services.close()
