"""Voice-to-voice latency and accuracy over the real WebSocket, ours against the
stock pipecat pipeline (with its default Whisper tiny.en, and with Whisper base in
int8 as ours runs it), with a Markdown table, a JSON file and PNG plots. The corpus includes
real people's recordings where ../shared/speech has them.

Then (not with --quick) the phone path: the corpus's 8 kHz phone clips as Twilio
calls (voice webhook, then Media Streams) to ours and to the stock pipecat Twilio
bot (its TwilioFrameSerializer on its FastAPI WebSocket transport, at tiny.en and at
base), all three servers up at once and each clip called to each in turn.

    lifeos eval latency [--quick | --full] [--out eval-results] [--phone N]
    lifeos eval latency --only phone [--phone N]
    lifeos eval latency --compare A.json B.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from websockets.exceptions import ConnectionClosed

from eval.client import TurnResult, run_script
from eval.corpus import Script, build, speech
from eval.phone import PHONE, PhoneClip, PhoneServer, against_stock, phone_clips
from eval.real_voices import WORDS, speech_dir
from eval.report import compare, markdown, plots, ratios, summarize
from store.database import sqlite_url

EMAIL = "eval@example.com"
BASELINE = [sys.executable, "-m", "eval.baseline"]
CONFIGS = {
    "ours": ["lifeos", "serve"],
    "stock pipecat": BASELINE,  # its default, tiny.en
    # the model ours runs, quantized as ours runs it: only the pipeline differs
    "stock pipecat base": [*BASELINE, "--whisper", "base", "--compute-type", "int8"],
}
console = Console()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lifeos eval latency", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a handful of utterances (CI)")
    size.add_argument("--full", action="store_true", help="every command of the corpus")
    parser.add_argument("--out", type=Path, default=Path("eval-results"))
    parser.add_argument(
        "--only", choices=[*CONFIGS, "phone"], help="run one configuration, or the phone part"
    )
    parser.add_argument(
        "--phone", type=int, metavar="N", help="phone clips to call with (default: the corpus's)"
    )
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A.json", "B.json"))
    args = parser.parse_args(argv)
    if args.compare:
        first, second = (json.loads(path.read_text()) for path in args.compare)
        console.print(compare(first, second, *(p.name for p in args.compare)))
        return 0
    scripts = build(quick=args.quick, full=args.full)
    turns = sum(len(s.turns) for s in scripts)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("speaking the corpus", total=turns)
        for script in scripts:
            for turn in script.turns:
                speech(turn)
                if turn.recording is not None:  # found now, not while streaming
                    _ = turn.recording.speech_span
                progress.advance(task)
    console.print(f"corpus: {len(scripts)} scripts, {turns} turns")
    real = _real_voices_note(scripts)
    console.print(f"real voices: {real}")
    configs = [args.only] if args.only in CONFIGS else [] if args.only else list(CONFIGS)
    compile_bytecode()
    runs = {name: asyncio.run(_measure(name, scripts)) for name in configs}
    phone = None
    if not args.quick and args.only in (None, "phone"):
        phone = asyncio.run(_measure_phone(phone_clips(scripts, args.phone)))
    summaries = {name: summarize(run, scripts) for name, run in runs.items()}
    result = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "corpus": "quick" if args.quick else "full" if args.full else "default",
        "real_voices": real,
        "configs": summaries,
        "ratios": ratios(summaries),  # the first configuration's ÷ each other one's
        "turns": {name: [asdict(t) for t in run["turns"]] for name, run in runs.items()},
        "phone": phone,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latency.json").write_text(json.dumps(result, indent=2))
    table = markdown(result)
    (args.out / "latency.md").write_text(table)
    plots(result, args.out)
    console.print(table)
    console.print(f"wrote {args.out}/latency.json, latency.md, latency_cdf.png, stages.png")
    return 0


def _real_voices_note(scripts: list[Script]) -> str:
    recordings = [t.recording for s in scripts for t in s.turns if t.recording is not None]
    folder = speech_dir()
    if folder is None:
        return "skipped: no recordings in ../shared/speech (or LIFEOS_SPEECH_DIR)"
    words = sum(r.kind == WORDS for r in recordings)
    return f"{words} one-word commands and {len(recordings) - words} spoken orders from {folder}"


def compile_bytecode() -> None:
    """Cold start is measured as someone restarting the service sees it: Python wrote
    the project's bytecode on an earlier run. (Where PYTHONDONTWRITEBYTECODE is set,
    as on this machine, it never would, and each start would compile every module
    again: about 0.7 s.) The installed packages were compiled by `uv sync`."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in ("agent", "intents", "skills", "speech", "store", "telephony"):
        compileall.compile_dir(root / package, quiet=1)


async def _measure(name: str, scripts: list[Script]) -> dict[str, Any]:
    """Start one configuration on a fresh database, run every script, stop it."""
    with tempfile.TemporaryDirectory(prefix="lifeos-eval-") as data:
        env = {k: v for k, v in os.environ.items() if k != "LIFEOS_DATABASE_URL"}
        env["LIFEOS_DATA_DIR"] = data  # SQLite in a fresh folder: the embedded default
        token = _account(env)
        port = _free_port()
        async with _server(CONFIGS[name] + ["--port", str(port)], env, port) as (process, cold):
            url = f"ws://127.0.0.1:{port}/v1/voice"
            turns: list[TurnResult] = []
            effects: dict[str, bool] = {}
            with Progress(console=console) as progress:
                task = progress.add_task(name, total=len(scripts))
                for script in scripts:
                    try:
                        turns.extend(await run_script(url, token, script))
                    except ConnectionClosed as exc:  # counted as unanswered; the log says why
                        console.print(f"[red]{script.id}: connection lost ({exc})[/]")
                        log = Path(data) / "server.log"
                        console.print(log.read_text(errors="replace")[-3000:])
                        turns.extend(TurnResult(t.text) for t in script.turns)
                    if script.expect:
                        effects[script.id] = await _effect(port, token, script.expect)
                    progress.advance(task)
            memory = _memory_mb(process.pid)
    return {"turns": turns, "effects": effects, "cold_start_s": cold, "memory_mb": memory}


async def _measure_phone(clips: list[PhoneClip]) -> dict[str, Any]:
    """Ours and both stock pipecat Twilio bots, each on a fresh database, all up at
    once; every clip called to each in turn."""
    async with contextlib.AsyncExitStack() as stack:
        servers = []
        for name in CONFIGS:
            data = stack.enter_context(tempfile.TemporaryDirectory(prefix="lifeos-phone-"))
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            env = {k: v for k, v in os.environ.items() if k != "LIFEOS_DATABASE_URL"}
            env["LIFEOS_DATA_DIR"] = data
            # Twilio as ours needs it configured: its requests are signed for this address.
            auth = secrets.token_hex(16)
            env["LIFEOS_TWILIO_ACCOUNT_SID"] = "AC" + "0" * 32
            env["LIFEOS_TWILIO_AUTH_TOKEN"] = auth
            env["LIFEOS_PUBLIC_URL"] = url
            _account(env, PHONE)
            await stack.enter_async_context(
                _server(CONFIGS[name] + ["--port", str(port)], env, port)
            )
            database = sqlite_url(Path(data) / "lifeos.db")
            servers.append(PhoneServer(name, url, auth, database))
        with Progress(console=console) as progress:
            task = progress.add_task("phone calls", total=len(clips))
            return await against_stock(servers, clips, lambda: progress.advance(task))


def _account(env: dict[str, str], phone: str | None = None) -> str:
    lifeos = shutil.which("lifeos") or "lifeos"
    subprocess.run([lifeos, "db", "upgrade"], env=env, check=True, capture_output=True)  # noqa: S603
    number = ["--phone", phone] if phone else []
    subprocess.run(  # noqa: S603 - our own CLI
        [lifeos, "user", "create", "--email", EMAIL, "--tz", "America/New_York", *number],
        env=env,
        check=True,
        capture_output=True,
    )
    done = subprocess.run(  # noqa: S603 - our own CLI
        [lifeos, "token", EMAIL], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@contextlib.asynccontextmanager
async def _server(
    command: list[str], env: dict[str, str], port: int
) -> AsyncIterator[tuple[asyncio.subprocess.Process, float]]:
    """A server process, and how long it took from start to ready (/readyz 200)."""
    program = shutil.which(command[0]) or command[0]
    log = Path(env["LIFEOS_DATA_DIR"]) / "server.log"
    started = time.perf_counter()
    with log.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            program, *command[1:], env=env, stdout=asyncio.subprocess.DEVNULL, stderr=errors
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            while True:
                if process.returncode is not None:
                    tail = log.read_text(errors="replace")[-2000:]
                    raise SystemExit(f"{' '.join(command)} exited:\n{tail}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        yield process, time.perf_counter() - started
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _effect(port: int, token: str, expect: dict[str, Any]) -> bool:
    """Did the script change what it should have (seen through the REST API)?"""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
        if "tasks" in expect or "no_tasks" in expect:
            response = await client.get("/v1/tasks")
            if response.status_code != 200:
                return False
            titles = [t["title"].lower() for t in response.json()]
            present = all(any(w in t for t in titles) for w in expect.get("tasks", []))
            absent = not any(any(w in t for t in titles) for w in expect.get("no_tasks", []))
            return present and absent
        if "spent" in expect:
            response = await client.get("/v1/transactions")
            amounts = [t["amount"] for t in response.json()] if response.is_success else []
            return expect["spent"] in amounts
    return True


def _memory_mb(pid: int) -> float | None:
    """Peak resident memory of the server process (VmHWM), in MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    raise SystemExit(main())
