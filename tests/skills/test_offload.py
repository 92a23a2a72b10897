"""The worker process imports run in: a separate interpreter, errors raised as they
were, and a worker that dies replaced on the next call."""

from __future__ import annotations

import asyncio
import operator
import os
import sys

import pytest

from skills.context import SkillError
from skills.finance.imports import read_lines
from skills.offload import WORKER_NICENESS, in_worker, pack, unpack


async def test_work_runs_in_another_process_at_a_lower_priority() -> None:
    assert await in_worker(os.getpid) != os.getpid()
    assert await in_worker(os.nice, 0) == min(19, os.nice(0) + WORKER_NICENESS)
    assert await in_worker(operator.add, 2, 3) == 5


async def test_a_refusal_in_the_worker_reaches_the_caller() -> None:
    with pytest.raises(SkillError, match="at most 20000 lines"):
        await in_worker(
            read_lines, b"date,description,amount\n" + b"2026-03-01,x,-1\n" * 20_001, None
        )


async def test_a_worker_that_dies_is_replaced() -> None:
    with pytest.raises(SkillError, match="could not be read"):
        await in_worker(os._exit, 1)
    assert await in_worker(operator.add, 1, 1) == 2


def test_packed_items_come_back_in_order() -> None:
    items = list(range(1234))
    chunks = pack(items, 100)
    assert len(chunks) == 13
    assert [item for chunk in chunks for item in unpack(chunk)] == items


async def test_the_worker_ends_when_the_service_is_killed() -> None:
    script = (
        "import asyncio, os\n"
        "from skills.offload import in_worker\n"
        "print(asyncio.run(in_worker(os.getpid)), flush=True)\n"
        "import time; time.sleep(60)\n"
    )
    service = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
    )
    assert service.stdout is not None
    worker = int(await asyncio.wait_for(service.stdout.readline(), timeout=60))
    service.kill()  # no chance to stop its worker
    await service.wait()
    for _ in range(100):
        if not alive(worker):
            break
        await asyncio.sleep(0.1)
    assert not alive(worker)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
