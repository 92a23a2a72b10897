"""PostgreSQL pulled out from under `lifeos serve` under load, and put back: how long
until the service writes again (no restart), and what clients got meanwhile.

A TCP plug (eval/tcp_plug.py) sits between the service and PostgreSQL: cutting it is
what a database restart looks like to the service (every connection reset, new ones
refused). Four clients create tasks without pause; each round cuts for --down
seconds, restores, and times from the restore to the first 201.

    uv run --frozen python -m eval.outage [--rounds 5] [--down 3]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import tempfile
import time
import uuid

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from eval.latency import CONFIGS, _account, _free_port, _server
from eval.tcp_plug import Plug

CLIENTS = 4


async def measure(admin_url: str, rounds: int, down: float) -> None:
    name = f"lifeos_outage_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        async with Plug("127.0.0.1", 5432).running() as plug:
            plugged = make_url(admin_url).set(host="127.0.0.1", port=plug.port, database=name)
            with tempfile.TemporaryDirectory(prefix="lifeos-outage-") as data:
                env = {k: v for k, v in os.environ.items() if not k.startswith("LIFEOS_")}
                env.update(
                    {
                        "LIFEOS_DATA_DIR": data,
                        "LIFEOS_DATABASE_URL": plugged.render_as_string(hide_password=False),
                        "LIFEOS_TOKEN_LIMIT": "1000000/minute",  # the load is ours, not abuse
                        "LIFEOS_ADDRESS_LIMIT": "1000000/minute",
                    }
                )
                token = await asyncio.to_thread(_account, env)  # the plug runs on this loop
                port = _free_port()
                async with _server(CONFIGS["ours"] + ["--port", str(port)], env, port):
                    await _rounds(f"http://127.0.0.1:{port}", token, plug, rounds, down)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _rounds(url: str, token: str, plug: Plug, rounds: int, down: float) -> None:
    statuses: collections.Counter[int] = collections.Counter()
    stored = asyncio.Event()  # set by each 201
    stop = asyncio.Event()

    async def client() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            while not stop.is_set():
                answer = await http.post("/v1/tasks", json={"title": "load"}, headers=headers)
                statuses[answer.status_code] += 1
                if answer.status_code == 201:
                    stored.set()
                else:
                    await asyncio.sleep(0.05)  # as a client honouring Retry-After would, briefly

    clients = [asyncio.create_task(client()) for _ in range(CLIENTS)]
    recoveries = []
    try:
        for _ in range(rounds):
            await asyncio.sleep(1.0)
            plug.cut()
            await asyncio.sleep(down)
            stored.clear()  # cut for a while: every request now fails
            plug.restore()
            restored = time.perf_counter()
            await stored.wait()
            recoveries.append(time.perf_counter() - restored)
    finally:
        stop.set()
        await asyncio.gather(*clients)
    print(f"recovery after the database returns, over {rounds} rounds (s): "
          f"median {statistics.median(recoveries):.3f}, max {max(recoveries):.3f}")  # fmt: skip
    print("answers during the run by status:", dict(sorted(statuses.items())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.outage", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--down", type=float, default=3.0, help="seconds cut each round")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    asyncio.run(measure(args.postgres, args.rounds, args.down))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
