"""Cold start and memory of `lifeos serve` alone, without the spoken corpus: the
harness's own start (a fresh SQLite data folder, bytecode compiled as after a first
run, timed to /readyz answering 200) repeated a few times, with the process's peak
resident memory at ready.

    uv run --frozen python -m eval.cold_start [--runs 3]

On a shared machine the figures move with the neighbours' load: compare two builds
by alternating their runs, not against a figure taken at another time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile

from eval.latency import CONFIGS, _account, _free_port, _memory_mb, _server, compile_bytecode


async def once() -> tuple[float, float | None]:
    with tempfile.TemporaryDirectory(prefix="lifeos-cold-") as data:
        env = {k: v for k, v in os.environ.items() if k != "LIFEOS_DATABASE_URL"}
        env["LIFEOS_DATA_DIR"] = data
        _account(env)
        port = _free_port()
        async with _server(CONFIGS["ours"] + ["--port", str(port)], env, port) as (process, cold):
            return cold, _memory_mb(process.pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    compile_bytecode()
    colds, peaks = [], []
    for _ in range(max(1, args.runs)):
        cold, peak = asyncio.run(once())
        colds.append(cold)
        peaks.append(peak or 0.0)
        print(f"ready in {cold:.2f} s, peak {peak or 0:.0f} MB", flush=True)
    cold, peak = statistics.median(colds), statistics.median(peaks)
    print(f"median: ready in {cold:.2f} s, peak {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
