"""CPU-heavy work (reading a 20,000-line statement or a 10,000-event calendar) in a
separate process, so that the service's own interpreter lock stays free for everyone
else's requests.

A worker thread is not enough: Python threads take turns on one lock, and every step
of answering another user's request has to win it back from the import (measured:
another user's /healthz waited up to 0.7 s during a large .ics import). One worker
process, started on first use by *spawn* (a fresh interpreter: the loaded speech
models are not copied), takes one job at a time; a second import waits its turn
rather than take the other core from the voice pipeline.

What crosses between the processes is plain data. A large result comes back as
``pack``ed chunks: unpickling it in one call would hold the lock as long as the work
it saved, so the caller ``unpack``s one chunk at a time, between batches of its own.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from skills.context import SkillError

T = TypeVar("T")

# The worker yields the CPU to the service process: on a busy machine a large import
# takes longer rather than delay the requests (and the voice) being answered meanwhile.
WORKER_NICENESS = 10

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_started,
                initargs=(os.getpid(),),
            )
        return _pool


def _worker_started(service: int) -> None:
    os.nice(WORKER_NICENESS)
    threading.Thread(target=_exit_with, args=(service,), daemon=True).start()


def _exit_with(service: int) -> None:
    """End the worker when the service process is gone: killed, it cannot tell the
    worker to stop, and the worker would wait for work forever."""
    while os.getppid() == service:
        time.sleep(1)
    os._exit(0)


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def in_worker(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in the worker process. ``function`` must be a module-level
    function and its arguments and result picklable; what it raises is raised here."""
    pool = _executor()
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
    except BrokenProcessPool:
        # The worker died (killed, out of memory): the next call starts a fresh one.
        _discard(pool)
        raise SkillError("that file could not be read; try again") from None


async def start() -> None:
    """Start the worker and load what its jobs use, ahead of the first import (the
    service's warm-up calls it): a fresh interpreter's imports are seconds on a busy
    machine, at the worker's low priority."""
    await in_worker(_load_job_modules)


def _load_job_modules() -> None:
    import skills.calendar.importing
    import skills.finance.imports  # noqa: F401


def pack(items: list[Any], size: int) -> list[bytes]:
    """``items`` as pickled chunks of ``size``: cheap to send back from the worker, and
    a chunk a small step to unpickle."""
    return [pickle.dumps(items[at : at + size]) for at in range(0, len(items), size)]


def unpack(chunk: bytes) -> list[Any]:
    """One chunk's items (only ever chunks this process's own worker packed)."""
    return pickle.loads(chunk)  # noqa: S301
