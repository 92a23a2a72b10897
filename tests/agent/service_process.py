"""`lifeos serve` as a real process for the operations tests: started, waited for,
killed with SIGKILL, started again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import httpx

from tests.agent.test_cli import LIFEOS, lifeos
from tests.local_server import free_port

START_TRIES = 1800  # × 0.1 s: a cold start on a busy two-core machine takes a while


class Service:
    def __init__(self, env: dict[str, str], log: Path, port: int | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *args: str) -> None:
        with self._log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                LIFEOS, "serve", "--port", str(self.port), *args,
                env=self.env, stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip

    async def answering(self, path: str = "/healthz") -> httpx.Response:
        """Wait until ``path`` answers 200 (the port opens before the models load)."""
        async with httpx.AsyncClient(base_url=self.url) as client:
            for _ in range(START_TRIES):
                assert self.process is not None and self.process.returncode is None, self.output()
                with contextlib.suppress(httpx.TransportError):
                    response = await client.get(path)
                    if response.status_code == 200:
                        return response
                await asyncio.sleep(0.1)
        raise AssertionError(f"{path} never answered 200:\n{self.output()}")

    async def kill(self, how: signal.Signals = signal.SIGKILL) -> None:
        """Signal the service and every worker it started; wait for it to end."""
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, how)  # its own session: the workers go too
        await self.process.wait()

    async def token(self, email: str = "owner@example.com") -> dict[str, str]:
        made = await lifeos(self.env, "token", email)
        assert made.code == 0, made.err
        return {"Authorization": f"Bearer {made.out.strip()}"}

    def output(self) -> str:
        return self._log.read_text(errors="replace")[-4000:]
