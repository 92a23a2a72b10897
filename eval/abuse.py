"""Abuse probe: start the real service on loopback, run a household's mixed traffic
from many clients at once and check the database against what they were told, then
send one hostile user's worst requests (eval.hostile) one at a time while another
user's GET /healthz is timed.

    uv run --frozen python -m eval.abuse [--seconds 30] [--clients 50]
        [--database sqlite|postgresql] [--attack NAME ...] [--no-load] [--no-attacks]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import secrets
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import WebSocketException

from agent.settings import Settings
from eval.hostile import Attack, by_name
from eval.load import run_load, verify, watch_health
from eval.served import HOUSEHOLD, Server, database, signed_in
from eval.stats import figures
from store import migrate
from store.database import create_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.abuse", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--attack", action="append", help="only these (repeatable)")
    parser.add_argument("--attack-timeout", type=float, default=90)
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument("--no-attacks", action="store_true")
    args = parser.parse_args(argv)
    attacks = [] if args.no_attacks else by_name(args.attack)
    failed = False
    for backend in args.database or ["sqlite", "postgresql"]:
        failed |= asyncio.run(_probe(backend, args, attacks))
    return 1 if failed else 0


async def _probe(backend: str, args: argparse.Namespace, attacks: list[Attack]) -> bool:
    print(f"\n== {backend} ==", flush=True)
    with tempfile.TemporaryDirectory(prefix="lifeos-abuse-") as data:
        async with database(backend, Path(data)) as url:
            settings = Settings(
                data_dir=Path(data), database_url=url, jwt_secret=secrets.token_urlsafe(48)
            )
            engine = create_engine(url)
            try:
                tokens, hostile = await _household(engine, settings, len(attacks))
                async with Server(settings) as server:
                    failed = False
                    if not args.no_load:
                        failed |= await _load(server, engine, tokens, args)
                    for attack, token in zip(attacks, hostile, strict=True):
                        await _attack(server, attack, token, args.attack_timeout)
                if failed:
                    _print_tracebacks(Path(data) / "server.log")
            finally:
                await engine.dispose()
    return failed


async def _household(
    engine: Any, settings: Settings, hostile: int
) -> tuple[dict[uuid.UUID, str], list[str]]:
    """Four people sharing the service, and a fresh hostile account per attack (what
    one attack stored must not make the next one's figures)."""
    await migrate.upgrade(engine)
    names = HOUSEHOLD + [f"mallory{n}" for n in range(hostile)]
    issued = await signed_in(engine, settings, names)
    people = dict(list(issued.items())[: len(HOUSEHOLD)])
    return people, list(issued.values())[len(HOUSEHOLD) :]


async def _load(server: Server, engine: Any, tokens: dict, args: argparse.Namespace) -> bool:
    print(f"{args.clients} clients for {args.seconds:g} s ...", flush=True)
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_health(server.url, stop))
    started = time.perf_counter()
    tally = await run_load(server.url, tokens, clients=args.clients, seconds=args.seconds)
    took = time.perf_counter() - started
    stop.set()
    health, health_failures = await watcher
    problems = await verify(engine, tally)
    print(f"requests {tally.requests} in {took:.1f} s ({tally.requests / took:.0f}/s)")
    for kind, values in sorted(tally.latency_ms.items()):
        print(f"  {kind:<11} {figures(values)}")
    print(f"  healthz     {figures(health)}  failed {health_failures}")
    for ledger_user, ledger in tally.ledgers.items():
        print(
            f"  told {ledger_user.hex[:8]}: {ledger.__dict__ | {'invoices': len(ledger.invoices)}}"
        )
    print(
        f"errors {len(tally.errors)}; odd replies {len(tally.odd_replies)}; "
        f"row-count differences {len(problems)}"
    )
    for line in tally.errors[:10] + tally.odd_replies[:5] + problems[:10]:
        print(f"  ! {line}")
    return bool(tally.errors or problems or tally.odd_replies)


async def _attack(server: Server, attack: Attack, token: str, limit_s: float) -> None:
    if attack.prepare is not None:
        await asyncio.to_thread(attack.prepare)
    watcher = await _Watcher.start(server.url)
    await asyncio.sleep(0.5)  # a few quiet samples first
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    unanswered = False
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=limit_s) as http:
        try:
            outcome = await asyncio.wait_for(attack.send(http, server.ws_url), limit_s)
        except TimeoutError:
            outcome = f"no answer within {limit_s:g} s"
            unanswered = True
        except (httpx.HTTPError, OSError, WebSocketException) as exc:
            outcome = f"failed: {type(exc).__name__} {exc}"
    took = time.perf_counter() - started
    recovered = await server.wait_healthy(20)
    health, failures = await watcher.stop()
    print(f"\n[{attack.name}] {attack.what}\n  answer after {took:.1f} s: {outcome}")
    print(f"  other user's /healthz: {figures(health)}  failed {failures}")
    if not recovered:
        print("  the service did not answer /healthz within 20 s after it: restarted")
    if unanswered or not recovered:  # it may still be at work, and would slow the next
        await server.restart()


class _Watcher:
    """watch_health in a process of its own: the attacker's own work in this process
    (building a megabyte payload, encoding the upload, reading the answer) holds this
    interpreter's lock, and in a thread here it would count as the service's delay."""

    def __init__(self, process: BaseProcess, pipe: Connection) -> None:
        self.process, self.pipe = process, pipe

    @classmethod
    async def start(cls, url: str) -> _Watcher:
        context = multiprocessing.get_context("spawn")
        pipe, child = context.Pipe()
        process = context.Process(target=_watch_in_child, args=(url, child), daemon=True)
        process.start()
        await asyncio.to_thread(pipe.recv)  # "watching"
        return cls(process, pipe)

    async def stop(self) -> tuple[list[float], int]:
        self.pipe.send("stop")
        result = await asyncio.to_thread(self.pipe.recv)
        await asyncio.to_thread(self.process.join, 10)
        return result


def _watch_in_child(url: str, pipe: Connection) -> None:
    async def watch() -> tuple[list[float], int]:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()

        def stopped() -> None:
            loop.remove_reader(pipe.fileno())
            done.set()

        loop.add_reader(pipe.fileno(), stopped)
        pipe.send("watching")
        return await watch_health(url, done)

    pipe.send(asyncio.run(watch()))


def _print_tracebacks(log: Path, most: int = 3) -> None:
    """The service's own account of the first failures (the log goes with the folder)."""
    text = log.read_text(errors="replace")
    for block in text.split("Traceback (most recent call last):")[1 : most + 1]:
        print("  server: ..." + block[-1500:])


if __name__ == "__main__":
    sys.exit(main())
