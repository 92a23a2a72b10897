"""The latency harness end to end, as CI runs it: `lifeos eval latency --quick`
starts our server and the stock pipecat one (with tiny.en, and with Whisper base),
streams synthetic and real people's speech in real time over their WebSockets and
writes the table, the JSON and the plots. Timings are not asserted (they belong to
the harness's report), only that every part worked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from eval.real_voices import speech_dir

LIFEOS = shutil.which("lifeos")


def fresh_corpus_cache(cache: Path) -> Path:
    """A cache folder in which the spoken corpus is made afresh, but the trained parser and
    the assembled Whisper model are the run's own (a fresh copy of each would cost minutes
    of training on a busy machine and test nothing the other tests do not)."""
    shared = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lifeos"
    for part in ("parser", "models"):
        (shared / part).mkdir(parents=True, exist_ok=True)
        (cache / "lifeos").mkdir(parents=True, exist_ok=True)
        (cache / "lifeos" / part).symlink_to(shared / part, target_is_directory=True)
    return cache


@pytest.mark.skipif(LIFEOS is None, reason="the lifeos command is not installed")
def test_quick_run_produces_table_json_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "results"
    env = {**os.environ, "XDG_CACHE_HOME": str(fresh_corpus_cache(tmp_path / "cache"))}
    env.pop("LIFEOS_DATABASE_URL", None)
    done = subprocess.run(  # noqa: S603 - our own CLI
        [str(LIFEOS), "eval", "latency", "--quick", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # three servers; this machine is often busy
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "latency.json").read_text())
    assert set(result["configs"]) == {"ours", "stock pipecat", "stock pipecat base"}
    for name, summary in result["configs"].items():
        assert summary["answered"] >= 3, (name, result["turns"][name])
        assert summary["latency_ms"]["p50"] > 0
        real = summary["real_voices"]
        if speech_dir() is not None:  # a "yes", a "no" and one spoken order, all heard
            assert (real["words"], real["orders"]) == (2, 1), name
            assert real["words_wer"] is not None and real["slot_recall"] is not None
    assert set(result["ratios"]) == {"stock pipecat", "stock pipecat base"}
    assert result["ratios"]["stock pipecat base"]["latency_ms.p50"] > 0
    ours = result["configs"]["ours"]
    assert ours["stages_p50_ms"]["stt_wait"] is not None
    assert ours["barge_in_stop_ms"]["p50"] is not None  # the talked-over reply stopped
    table = (out / "latency.md").read_text()
    assert "| latency p50 |" in table  # ours, both baselines and a ratio to each
    assert "ours ÷ stock pipecat |" in table and "ours ÷ stock pipecat base |" in table
    assert "Real voices:" in table
    for plot in ("latency_cdf.png", "stages.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    compared = subprocess.run(  # noqa: S603
        [str(LIFEOS), "eval", "latency", "--compare", str(out / "latency.json")] * 1
        + [str(out / "latency.json")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "latency p50" in compared.stdout
