"""`lifeos worker` as an operator runs it, with no LiveKit server to reach."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from tests.local_server import free_port

SECRET = "a-livekit-secret-of-some-length-0123456789"


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LIFEOS_DATA_DIR", str(tmp_path))
    return monkeypatch


def test_unreachable_server_is_one_line_and_a_failing_exit(operator: pytest.MonkeyPatch) -> None:
    closed = free_port()  # nothing listens on it
    operator.setenv("LIVEKIT_URL", f"ws://127.0.0.1:{closed}")
    operator.setenv("LIVEKIT_API_KEY", "APIlifeos")
    operator.setenv("LIVEKIT_API_SECRET", SECRET)
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: cannot reach the LiveKit server at ws://127.0.0.1:{closed}")
    assert SECRET not in result.output


def test_worker_without_livekit_settings_says_which(operator: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 1
    assert "set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET" in result.output
