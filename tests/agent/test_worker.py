"""`lifeos worker` run as an operator runs it, with no LiveKit server to reach."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import Settings
from agent.worker import WorkerError, check_configured
from tests.agent.test_cli import environment, lifeos
from tests.local_server import free_port


async def test_unreachable_server_is_one_line_and_a_failing_exit(tmp_path: Path) -> None:
    env = environment(tmp_path)
    closed = free_port()  # nothing listens on it
    env |= {
        "LIVEKIT_URL": f"ws://127.0.0.1:{closed}",
        "LIVEKIT_API_KEY": "APIlifeos",
        "LIVEKIT_API_SECRET": "a-livekit-secret-of-some-length-0123456789",
    }
    result = await lifeos(env, "worker")
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert lines[-1].startswith(
        f"error: cannot reach the LiveKit server at ws://127.0.0.1:{closed}"
    )
    assert "Traceback" not in result.err and "retrying" not in result.err
    assert "a-livekit-secret" not in result.out + result.err


def test_worker_without_livekit_settings_says_which(tmp_path: Path) -> None:
    with pytest.raises(WorkerError, match="LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET"):
        check_configured(Settings(data_dir=tmp_path))
