"""`lifeos serve --workers N`: N service processes behind one port.

uvicorn's supervisor binds the port once, starts the workers (spawned: each imports
and builds its own app), and starts a new one when a worker dies. What the processes
must agree on is shared outside them: the data in PostgreSQL (reminders are leased
there), rate limits, the one-voice-connection-per-user rule and the hand-over of a
reminder to the process holding the user's page in Redis (agent/cluster.py).
Metrics go through prometheus-client's multiprocess mode, so /metrics on any worker
reports all of them. Migrations run once, in the supervisor, before any worker
starts.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from agent import server
from agent.settings import Settings
from store.database import parse_database_url

# How long a worker may take to answer the supervisor's ping before it is replaced:
# a starting worker imports the web stack and loads its models first, which takes
# far longer than uvicorn's 5 s on a busy small machine.
HEALTHCHECK_SECONDS = 60
# prometheus-client's own switch: set before a worker imports it, every metric writes
# to files in this folder and a scrape reads them all.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def refusal(settings: Settings, workers: int) -> str | None:
    """Why this configuration cannot run ``workers`` processes, or None if it can."""
    if workers <= 1:
        return None
    if parse_database_url(settings.resolved_database_url).drivername.startswith("sqlite"):
        return (
            "--workers needs PostgreSQL (LIFEOS_DATABASE_URL=postgresql://…): SQLite "
            "takes one writer at a time, so more processes only queue on its lock"
        )
    if not settings.redis_url:
        return (
            "--workers needs Redis (LIFEOS_REDIS_URL=redis://…): rate limits and the "
            "newest-voice-connection-per-user rule are shared through it; without it "
            "each process would count and decide alone"
        )
    return None


class WorkerConfig(uvicorn.Config):
    """The supervisor hands this to each worker; the worker builds its app from the
    environment's settings when it loads (an app cannot cross a process boundary)."""

    def load(self) -> None:
        from agent import preload
        from agent.app import create_app

        settings = Settings()
        preload.start()  # this worker's models, as a single `lifeos serve` does
        self.app = create_app(settings)
        self.http = server.protocol(settings.header_timeout_seconds, settings.body_timeout_seconds)
        super().load()


def run(settings: Settings, workers: int, **options: Any) -> None:
    """Serve with ``workers`` processes until stopped (blocks)."""
    _metrics_folder(settings)
    config = WorkerConfig(
        "agent.app:create_app",  # replaced in each worker; must only be picklable here
        workers=workers,
        timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
        proxy_headers=False,  # forwarded headers are the app's business (agent.app)
        ws_max_size=server.WS_MAX_BYTES,
        **options,
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def _metrics_folder(settings: Settings) -> None:
    """An empty folder for this run's metric files: counts from an earlier run's
    workers must not be added to this one's."""
    folder = Path(os.environ.get(MULTIPROC_ENV) or settings.data_dir / "metrics")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
