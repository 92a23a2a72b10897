"""The reply worked out during the pause, measured where it matters: turns the grammar
cannot call whole, which wait for the 480 ms silence. Two servers run side by side on
fresh SQLite folders, one with `LIFEOS_SPECULATIVE_REPLY=1` and one with `0`, and each
unfinished sentence is streamed in real time to one then the other, alternating which
goes first, so the shared machine's load falls on both alike.

    uv run --frozen python -m eval.speculative [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from eval.client import TurnResult, run_script
from eval.corpus import Script, Turn, speech
from eval.latency import _account, _free_port, _server

# Said and then left: each ends where more was coming, so the pause after it is judged.
UNFINISHED = (
    "Add bread to the",
    "Remind me to call mom",
    "Put eggs on the",
    "What's on my calendar for",
    "How much did I spend on",
)
MODES = {"speculative": "1", "off": "0"}
console = Console()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.speculative", description=__doc__)
    parser.add_argument("--rounds", type=int, default=4, help="times each sentence is said")
    parser.add_argument("--out", type=Path, help="write every turn here (JSON)")
    args = parser.parse_args(argv)
    for text in UNFINISHED:
        speech(Turn(text))  # synthesized (and cached) before any timing
    results = asyncio.run(_measure(args.rounds))
    console.print(_table(results))
    if args.out is not None:
        turns = {mode: [asdict(t) for t in run] for mode, run in results.items()}
        args.out.write_text(json.dumps(turns, indent=1))
    load = os.getloadavg()
    console.print(
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores"
    )
    return 0


async def _measure(rounds: int) -> dict[str, list[TurnResult]]:
    results: dict[str, list[TurnResult]] = {mode: [] for mode in MODES}
    async with contextlib.AsyncExitStack() as stack:
        urls: dict[str, tuple[str, str]] = {}
        data_dirs: dict[str, str] = {}
        for mode, flag in MODES.items():
            data = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"lifeos-spec-{mode}-"))
            env = {k: v for k, v in os.environ.items() if k != "LIFEOS_DATABASE_URL"}
            env.update(LIFEOS_DATA_DIR=data, LIFEOS_SPECULATIVE_REPLY=flag)
            data_dirs[mode] = data
            token = _account(env)
            port = _free_port()
            await stack.enter_async_context(
                _server(["lifeos", "serve", "--port", str(port)], env, port)
            )
            urls[mode] = (f"ws://127.0.0.1:{port}/v1/voice", token)
        for n in range(rounds):
            for i, text in enumerate(UNFINISHED):
                order = list(MODES) if (n + i) % 2 == 0 else list(reversed(MODES))
                for mode in order:
                    url, token = urls[mode]
                    script = Script(f"spec-{n}-{i}", [Turn(text)])
                    try:
                        results[mode].extend(await run_script(url, token, script))
                    except OSError as exc:  # the server is gone: say why, from its log
                        log = Path(data_dirs[mode]) / "server.log"
                        raise SystemExit(f"{mode}: {exc}\n{log.read_text()[-3000:]}") from exc
    return results


def _table(results: dict[str, list[TurnResult]]) -> Table:
    """All turns that waited for the silence, and those whose early transcript was in
    by then (`stt_wait` under 50 ms): only those can be rehearsed, and which turns they
    are depends on how loaded the machine is at that moment."""
    table = Table(title="turns that wait for the long silence: median (p95) ms", width=130)
    columns = (
        "mode",
        "turns",
        "speculative",
        "latency",
        "audio_ready",
        "stt_wait",
        "tts_first_chunk",
    )
    for column in columns:
        table.add_column(column)
    for mode, turns in results.items():
        waited = [t for t in turns if t.stages.get("ended_by") == "silence"]
        ready = [t for t in waited if t.stages.get("stt_wait", 1e9) < 50]
        for label, chosen in ((mode, waited), (f"{mode}, transcript in by the end", ready)):
            used = sum(bool(t.stages.get("speculative")) for t in chosen)
            table.add_row(
                label,
                f"{len(chosen)}/{len(turns)}",
                str(used),
                *(_spread([t.latency for t in chosen]),),
                *(_spread([t.stages.get(s) for t in chosen]) for s in columns[4:]),
            )
    return table


def _spread(values: list[Any]) -> str:
    known = sorted(v for v in values if v is not None)
    if not known:
        return "–"
    p95 = known[min(len(known) - 1, round(0.95 * (len(known) - 1)))]
    return f"{statistics.median(known):.0f} ({p95:.0f})"


if __name__ == "__main__":
    raise SystemExit(main())
