"""The service as its own process on a loopback port, on a fresh SQLite or PostgreSQL
database: what the load and abuse probes run against."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from agent.services import token_service
from agent.settings import Settings
from store.database import session_factory, session_scope
from store.models import UserCreate
from store.repositories.users import create_user

HOUSEHOLD = ["ann", "bob", "cleo", "dev"]  # the people sharing the service in a probe
POSTGRES_ADMIN_URL = os.environ.get(
    "LIFEOS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


async def signed_in(engine: Any, settings: Settings, names: list[str]) -> dict[uuid.UUID, str]:
    """A new user per name (``name@example.com``), each with a token from the service's
    own signing secret."""
    tokens = token_service(settings)
    issued = {}
    async with session_scope(session_factory(engine)) as db:
        for name in names:
            user = await create_user(db, UserCreate(email=f"{name}@example.com"))
            issued[user.id] = tokens.issue(user.id)
    return issued


@contextlib.asynccontextmanager
async def database(backend: str, data: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{data / 'lifeos.db'}"
        return
    name = f"lifeos_probe_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


class Server:
    """`lifeos serve` as its own process on a free loopback port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIFEOS_")}
        env |= {
            "LIFEOS_DATA_DIR": str(self.settings.data_dir),
            "LIFEOS_DATABASE_URL": self.settings.database_url or "",
            "LIFEOS_JWT_SECRET": self.settings.jwt_secret.get_secret_value(),  # type: ignore[union-attr]
            # The probe is a whole household hammering from one address as fast as the
            # machine goes: it measures capacity and isolation, not the request limits
            # (tests/agent/test_tokens.py does), so they are set out of its way.
            "LIFEOS_TOKEN_LIMIT": "1000000/minute",
            "LIFEOS_ADDRESS_LIMIT": "1000000/minute",
        }
        log = self.settings.data_dir / "server.log"
        program = shutil.which("lifeos") or "lifeos"
        with log.open("ab") as errors:
            self.process = await asyncio.create_subprocess_exec(
                program,
                "serve",
                "--port",
                str(self.port),
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=errors,
            )
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:
            for _ in range(3000):  # the voice models load in a few tens of seconds
                if self.process.returncode is not None:
                    raise SystemExit(f"lifeos serve exited:\n{log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise SystemExit("lifeos serve did not become ready within 5 minutes")

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:  # a blocked event loop does not get to handle SIGTERM
            process.kill()
            await process.wait()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def wait_healthy(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=self.url, timeout=1) as http:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/healthz")).status_code == 200:
                        return True
                await asyncio.sleep(0.2)
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
