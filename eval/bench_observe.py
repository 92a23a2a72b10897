"""What watching costs a REST request: the same authenticated `GET /v1/tasks` on a
real store, through the whole ASGI app in this process, with the metrics middleware
(`agent.observe.http.Observe`: request id, latency histogram), without it, and with
tracing on too (spans kept in memory, so no network is timed). The variants take
turns request by request, in a shuffled order each round, so a change in the
machine's load falls on all of them alike; the cost is the median of each round's
difference against the request without metrics.

    uv run python -m eval.bench_observe [--requests 2000] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rich.console import Console
from rich.table import Table

from agent.app import create_app
from agent.observe.http import Observe
from agent.observe.tracing import Tracing
from agent.services import Services
from eval.local import service_with_user
from eval.stats import percentile


def without_observe(app: FastAPI) -> FastAPI:
    # The middleware stack is built on the first request: dropping it now is as if
    # it had never been added.
    app.user_middleware = [m for m in app.user_middleware if m.cls is not Observe]
    return app


async def run(requests: int, database: str | None) -> dict[str, list[float]]:
    async with service_with_user(database) as (services, user):
        headers = {"Authorization": f"Bearer {services.tokens.issue(user.id)}"}
        tracing = Tracing(InMemorySpanExporter())
        variants: dict[str, tuple[FastAPI, Callable[[Services], None]]] = {
            "no metrics": (without_observe(create_app(services=services)), _untraced),
            "metrics": (create_app(services=services), _untraced),
            "metrics + traces": (create_app(services=services), lambda s: _traced(s, tracing)),
        }
        clients = {
            name: httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=headers
            )
            for name, (app, _setup) in variants.items()
        }
        timings: dict[str, list[float]] = {name: [] for name in variants}
        try:
            for name, client in clients.items():  # warm each path once
                variants[name][1](services)
                (await client.get("/v1/tasks")).raise_for_status()
            order = list(clients)
            shuffle = random.Random(17).shuffle  # noqa: S311 - an order, not a secret
            for _ in range(requests):
                shuffle(order)
                for name in order:
                    variants[name][1](services)
                    started = time.perf_counter()
                    response = await clients[name].get("/v1/tasks")
                    timings[name].append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
        finally:
            for client in clients.values():
                await client.aclose()
            services.tracing = None
            tracing.shutdown()
    return timings


def _untraced(services: Services) -> None:
    services.tracing = None


def _traced(services: Services, tracing: Tracing) -> None:
    services.tracing = tracing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per variant")
    parser.add_argument("--database", default=None, help="default: a SQLite file")
    args = parser.parse_args()
    load = os.getloadavg()
    timings = asyncio.run(run(args.requests, args.database))
    base = statistics.median(timings["no metrics"])
    table = Table("variant", "requests", "p50 ms", "p95 ms", "p50 ratio", "paired cost ms")
    for name, values in timings.items():
        p50 = statistics.median(values)
        bare = timings["no metrics"]
        paired = statistics.median(v - b for v, b in zip(values, bare, strict=True))
        table.add_row(
            name,
            str(len(values)),
            f"{p50:.3f}",
            f"{percentile(values, 0.95):.3f}",
            f"{p50 / base:.3f}x",
            f"{paired:+.3f}",
        )
    console = Console()
    console.print(table)
    after = os.getloadavg()
    console.print(f"load average before {load[0]:.2f}, after {after[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
