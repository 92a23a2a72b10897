"""The lifeos command, run as a user runs it: a real process on a real database."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, DatabaseFactory
from tests.local_server import free_port

LIFEOS = str(Path(sys.executable).parent / "lifeos")


@dataclass
class Result:
    code: int
    out: str
    err: str


def environment(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFEOS_")}
    env["LIFEOS_DATA_DIR"] = str(data_dir)
    if database_url:
        env["LIFEOS_DATABASE_URL"] = database_url
    return env


async def lifeos(env: dict[str, str], *args: str) -> Result:
    process = await asyncio.create_subprocess_exec(
        LIFEOS, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    return Result(process.returncode or 0, out.decode(), err.decode())


@pytest.fixture(params=BACKENDS)
async def env(request: pytest.FixtureRequest, databases: DatabaseFactory, tmp_path: Path) -> dict:
    # SQLite runs on the embedded default (no URL at all); PostgreSQL on a fresh database.
    url = await databases.new("postgresql") if request.param == "postgresql" else None
    return environment(tmp_path, url)


async def test_user_create_then_token_signs_in(env: dict) -> None:
    assert (await lifeos(env, "db", "upgrade")).code == 0
    created = await lifeos(
        env,
        "user",
        "create",
        "--email",
        "Ann@Example.com",
        "--phone",
        "+1 415 555 0123",
        "--tz",
        "America/Chicago",
    )
    assert created.code == 0, created.err
    assert "lifeos token ann@example.com" in created.out

    token = await lifeos(env, "token", "ann@example.com")
    assert token.code == 0, token.err
    assert token.out.count(".") == 2  # a bare JWT, ready to paste

    # Tokens are kept on record: listed, revoked one by one or all at once.
    speaker = await lifeos(
        env, "token", "issue", "ann@example.com", "--label", "speaker", "--scope", "speaker"
    )
    assert speaker.code == 0, speaker.err
    payload = speaker.out.strip().split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["scope"] == "speaker"  # it talks and reads, never touches the money
    link = await lifeos(env, "user", "password-link", "ann@example.com")
    assert link.code == 0, link.err
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/#setup=[\w-]{40,}\n", link.out)
    tokens = await lifeos(env, "token", "list", "ann@example.com")
    assert "cli" in tokens.out and "speaker" in tokens.out
    revoked = await lifeos(env, "token", "revoke", token.out.strip())
    assert revoked.code == 0 and "Revoked 1 token." in revoked.out, revoked.err
    again = await lifeos(env, "token", "revoke", token.out.strip())
    assert again.code == 2 and "no token with that id still counts" in again.err
    everything = await lifeos(env, "token", "revoke", "--all", "ann@example.com")
    assert "Revoked 1 token." in everything.out  # the speaker's
    assert "speaker" not in (await lifeos(env, "token", "list", "ann@example.com")).out

    listed = await lifeos(env, "user", "list")
    assert "+14155550123" in listed.out
    assert "America/Chicago" in listed.out


BAD_USER_INPUT = [
    (["--email", "ann@example.com"], "already exists"),
    (["--email", "bob@example.com", "--phone", "+14155550123"], "phone +14155550123 already"),
    (["--email", "bob@example.com", "--phone", "12345"], "international form"),
    (["--email", "bob@example.com", "--tz", "Mars/Olympus"], "unknown time zone"),
    (["--email", "not an email"], "not a valid email"),
]


async def test_bad_user_input_is_refused_and_adds_no_row(env: dict) -> None:
    await lifeos(env, "db", "upgrade")
    await lifeos(env, "user", "create", "--email", "ann@example.com", "--phone", "+14155550123")
    for args, message in BAD_USER_INPUT:
        refused = await lifeos(env, "user", "create", *args)
        assert refused.code == 2, args
        assert message in refused.err, (args, refused.err)
        assert "Traceback" not in refused.err
    listed = await lifeos(env, "user", "list")
    assert listed.out.count("@example.com") == 1


async def test_token_for_unknown_email(env: dict) -> None:
    await lifeos(env, "db", "upgrade")
    result = await lifeos(env, "token", "nobody@example.com")
    assert result.code == 2
    assert "no user with email nobody@example.com" in result.err


async def test_commands_before_upgrade_say_what_to_do(env: dict) -> None:
    result = await lifeos(env, "token", "ann@example.com")
    assert result.code == 2
    assert "run: lifeos db upgrade" in result.err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x@localhost/db", "unsupported database URL scheme 'mysql'"),
        ("::not a url::", "malformed database URL"),
        ("postgresql+asyncpg://nobody@127.0.0.1:1/none", "cannot reach the database"),
        ("postgresql://nobody@127.0.0.1:5432/none", 'role "nobody" does not exist'),
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]])
async def test_bad_database_url_is_one_clear_line(
    tmp_path: Path, url: str, message: str, command: list[str]
) -> None:
    result = await lifeos(environment(tmp_path, url), *command)
    assert result.code == 2
    assert message in result.err
    assert result.err.strip().count("\n") == 0, result.err
    assert "Traceback" not in result.err


async def test_first_serve_creates_the_owner_and_answers(env: dict) -> None:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        LIFEOS,
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        printed = await asyncio.wait_for(read_until(server, b"Serving on"), timeout=60)
        assert "lifeos token owner@example.com" in printed
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await poll_health(client)
            assert health.json()["database"] == "ok"
            ready = await poll_ready(client)  # the models load behind the open port
            assert ready.json() == {
                "status": "ok",
                "database": "ok",
                "models": "ready",
                "rate_limits": "memory",
                "voice_connections": "this process",
            }

            token = await lifeos(env, "token", "owner@example.com")
            me = await client.get(
                "/v1/me", headers={"Authorization": f"Bearer {token.out.strip()}"}
            )
            assert me.status_code == 200
            assert me.json()["is_owner"] is True
    finally:
        server.terminate()
        await server.communicate()

    # A second start finds the owner and does not make another.
    again = await lifeos(env, "user", "list")
    assert again.out.count("owner@example.com") == 1


async def read_until(process: asyncio.subprocess.Process, marker: bytes) -> str:
    assert process.stdout is not None
    seen = b""
    while marker not in seen:
        line = await process.stdout.readline()
        if not line:
            raise AssertionError(f"server exited early: {seen.decode()}")
        seen += line
    return seen.decode()


async def poll_health(client: httpx.AsyncClient) -> httpx.Response:
    for _ in range(100):
        try:
            return await client.get("/healthz")
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    raise AssertionError("server never answered /healthz")


async def poll_ready(client: httpx.AsyncClient) -> httpx.Response:
    for _ in range(600):
        response = await client.get("/readyz")
        if response.status_code == 200:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError("the models never finished loading")


async def test_say_and_continue_a_conversation(env: dict) -> None:
    await lifeos(env, "db", "upgrade")
    await lifeos(env, "user", "create", "--email", "ann@example.com", "--tz", "Europe/Paris")
    asked = await lifeos(env, "say", "remind me to call mom", "--email", "ann@example.com")
    assert asked.out.strip() == "When should I remind you?"
    session = asked.err.strip().split()[-1]
    done = await lifeos(
        env, "say", "tomorrow at 6", "--email", "ann@example.com", "--session", session
    )
    assert done.out.strip() == "Okay, I'll remind you to call mom tomorrow at 6 PM."
    listed = await lifeos(env, "say", "what are my tasks", "--email", "ann@example.com")
    assert listed.out.strip() == "You have 1 thing on your tasks: call mom."
