"""What the service lets others see: its files on disk, its secrets, the files it
serves, the headers on its answers and the lines it logs."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from websockets.asyncio.client import connect

from agent.app import create_app
from agent.logs import WITHHELD
from agent.services import Services
from agent.settings import Settings
from tests.agent.test_cli import environment, lifeos
from tests.local_server import serve

MARKER = "divorce lawyer appointment"  # what a user wrote, which no log may repeat


def modes(folder: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = stat.S_IMODE(path.stat().st_mode)
    return found


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022), under which files come out world-readable by default."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


async def test_lifeos_commands_keep_the_data_directory_private(tmp_path: Path) -> None:
    data = tmp_path / "new" / "lifeos"
    env = environment(data)
    assert (await lifeos(env, "db", "upgrade")).code == 0
    assert (await lifeos(env, "user", "create", "--email", "ann@example.com")).code == 0
    assert (await lifeos(env, "token", "ann@example.com")).code == 0
    found = modes(data)
    assert {"lifeos.db", "jwt-secret"} <= found.keys()
    assert found == {name: 0o700 if (data / name).is_dir() else 0o600 for name in found}


async def test_a_running_service_writes_only_private_files(
    tmp_path: Path, open_umask: None
) -> None:
    """Built in-process (no umask from the lifeos command): the database, its WAL and
    shared-memory files, the secret and an invoice's folder are owner-only."""
    data = tmp_path / "lifeos"
    services = Services.build(Settings(data_dir=data))
    try:
        async with services.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE probe (note TEXT NOT NULL)"))
            await conn.execute(text("INSERT INTO probe VALUES ('x')"))
            found = modes(data)  # while the connection is open, the WAL exists
            with pytest.raises(Exception, match="NOT NULL") as failed:
                await conn.execute(
                    text("INSERT INTO probe VALUES (:note), (NULL)"), {"note": MARKER}
                )
        await services.files.put("invoices/2026/1.pdf", b"%PDF")
    finally:
        await services.close()
    assert MARKER not in str(failed.value)  # a database error quotes no values
    assert {"lifeos.db-wal", "lifeos.db-shm"} <= found.keys()
    found |= modes(data)
    assert found == {name: 0o700 if (data / name).is_dir() else 0o600 for name in found}


def test_files_left_open_by_an_older_version_are_closed(tmp_path: Path) -> None:
    data = tmp_path / "lifeos"
    data.mkdir()
    for name in ("lifeos.db", "jwt-secret"):
        (data / name).touch(mode=0o644)
        (data / name).chmod(0o644)
    (data / "jwt-secret").write_text("k2P9vQ7xN4mB8cR1tY6wZ3aL5sD0fG7hJ9eU2iO4pX8\n")
    services = Services.build(Settings(data_dir=data))
    services.engine.sync_engine.dispose()
    assert modes(data)["lifeos.db"] == modes(data)["jwt-secret"] == 0o600


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("changeme-changeme-changeme-changeme", "placeholder"),
        ("Change_Me_please_0123456789abcdefghij", "placeholder"),
        ("a" * 64, "different characters"),
        ("correct horse battery staple and more words", "whitespace"),
        ("Xk3-short", "9 characters long"),
    ],
)
def test_weak_signing_secrets_are_refused(secret: str, problem: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(jwt_secret=secret)
    message = str(refused.value)
    assert problem in message and "at least 32 characters" in message
    assert secret not in message  # the refusal does not echo the secret


async def test_a_weak_secret_stops_the_command_with_one_line(tmp_path: Path) -> None:
    env = environment(tmp_path) | {"LIFEOS_JWT_SECRET": "changeme" * 5}
    result = await lifeos(env, "db", "upgrade")
    assert result.code == 2
    assert "LIFEOS_JWT_SECRET" in result.err and "placeholder" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    "path",
    [
        "/web/__init__.py",
        "/web/__pycache__/__init__.cpython-311.pyc",
        "/web/index.html/../__init__.py",
        "/web/%2e%2e/app.py",
        "/web/",
    ],
)
async def test_only_the_page_assets_are_served(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 404


async def test_every_answer_carries_the_security_headers(
    client: httpx.AsyncClient, auth: dict
) -> None:
    for path, headers in (("/", {}), ("/web/app.js", {}), ("/v1/me", auth), ("/v1/me", {})):
        response = await client.get(path, headers=headers)
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
    docs = await client.get("/docs")
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]


class ServerLog(logging.Handler):
    """What uvicorn's loggers and ours write, formatted as an operator reads it.
    Attach once the server runs: uvicorn sets its loggers up when it starts."""

    NAMES = ("uvicorn.error", "uvicorn.access", "agent")

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def attach(self) -> None:
        for name in self.NAMES:
            logging.getLogger(name).addHandler(self)
            logging.getLogger(name).setLevel(logging.INFO)

    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def server_log() -> Iterator[ServerLog]:
    log = ServerLog()
    levels = {name: logging.getLogger(name).level for name in ServerLog.NAMES}
    yield log
    for name, level in levels.items():
        logging.getLogger(name).removeHandler(log)
        logging.getLogger(name).setLevel(level)


async def test_logs_keep_what_users_wrote_out(
    services: Services, auth: dict, server_log: ServerLog
) -> None:
    app = create_app(services=services)

    @app.get("/v1/fails")
    async def fails() -> None:  # an unexpected error that quotes a user's words
        async with services.engine.connect() as conn:
            try:
                await conn.execute(text("SELECT * FROM no_such_table WHERE t = :t"), {"t": MARKER})
            except Exception as exc:
                raise RuntimeError(f"could not save {MARKER!r}") from exc

    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        server_log.attach()
        searched = await client.get("/v1/tasks", params={"text": MARKER}, headers=auth)
        failed = await client.get("/v1/fails")
    assert searched.status_code == 200 and failed.status_code == 500
    logged = server_log.text()
    assert "GET /v1/tasks?[query withheld]" in logged
    assert "RuntimeError " + WITHHELD in logged
    assert "sqlalchemy.exc." in logged and logged.count(WITHHELD) >= 2  # the cause, too
    assert 'raise RuntimeError(f"could not save' in logged  # where it went wrong stays
    assert MARKER not in logged and MARKER.replace(" ", "+") not in logged


async def test_a_client_leaving_before_ready_is_one_line(
    services: Services, auth: dict, voice_models: tuple, server_log: ServerLog
) -> None:
    gone = asyncio.Event()

    async def slow_models() -> tuple:  # the models still load when the client gives up
        await gone.wait()
        return voice_models

    services.voice_models = slow_models  # type: ignore[method-assign]
    token = auth["Authorization"].split()[1]
    async with serve(create_app(services=services)) as url:
        server_log.attach()
        async with connect(f"{url.replace('http', 'ws')}/v1/voice?token={token}") as socket:
            await socket.close()
        gone.set()
        for _ in range(100):
            if "voice client left" in server_log.text():
                break
            await asyncio.sleep(0.05)
    assert not services.voice_connections
    logged = server_log.text()
    assert "Traceback" not in logged and "Exception in ASGI" not in logged
    assert "voice client left before it was ready" in logged
    assert token not in logged
