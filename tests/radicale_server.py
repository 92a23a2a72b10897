"""A real Radicale CalDAV server on loopback, for the sync tests."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from skills.calendar.remote import RemoteCalendar
from tests.local_server import free_port

USERS = {"ann": "ann-secret", "bob": "bob-secret"}


@asynccontextmanager
async def radicale(folder: Path) -> AsyncIterator[str]:
    """Run Radicale with plain htpasswd users; yield its base URL."""
    users = folder / "users"
    users.write_text("".join(f"{name}:{secret}\n" for name, secret in USERS.items()))
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "radicale",
        "--server-hosts",
        f"127.0.0.1:{port}",
        "--auth-type",
        "htpasswd",
        "--auth-htpasswd-filename",
        str(users),
        "--auth-htpasswd-encryption",
        "plain",
        # The client asks once without credentials first; do not punish that.
        "--auth-delay",
        "0",
        "--rights-type",
        "owner_only",
        "--storage-filesystem-folder",
        str(folder / "collections"),
        "--logging-level",
        "warning",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            break
        else:
            raise RuntimeError("Radicale did not start")
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        await process.wait()


def loopback(url: str, username: str, password: str) -> RemoteCalendar:
    """The test server is on loopback: reachable only with private addresses allowed,
    as LIFEOS_CALDAV_ALLOW_PRIVATE does for the service."""
    return RemoteCalendar(url, username, password, allow_private=True)
