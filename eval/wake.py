"""The speaker's figures: `python -m eval.wake`.

1. Detection: the wake word said by every corpus voice (Piper and the espeak-ng
   voices), in three phrasings, quiet, from across the room (-20 dB) and in room noise
   at 20, 10 and 5 dB SNR (three noise draws each), each followed by a command.
2. False wakes per hour: every dev-set command in the corpus voices and the real-voice
   recordings in ../shared/speech (coffee orders, one-word commands) played back to
   back, looped at other gains and with noise until there is at least an hour, none
   of it with the wake word. The detector's CPU per second of audio is timed here.
3. Reply time at the device: "okay nabu", a pause, a command, streamed in real time
   by the speaker client to the real service on a loopback port; from the last
   sample of the command to the first reply audio at the speaker. The baseline is the
   harness's own voice client (eval.client) streaming the same commands without a
   wake word, in the same run.

`--engine open` measures 1 and 2 with openWakeWord's models from the
`pyopen-wakeword` wheel instead (not a dependency: run it with
`uv run --with pyopen-wakeword==1.1.0 python -m eval.wake --engine open --no-latency`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from eval.corpus import RATE, VOICES, Script, Turn, _noise, speech
from eval.devset import load_dev_set
from eval.real_voices import load_orders, load_words, speech_dir
from speech.wake import DEFAULT_CUTOFF, WakeWord

console = Console()
FRAME = 320  # samples: 20 ms
PHRASES = ("Okay Nabu.", "Okay, Nabu.", "OK Nabu.")
CONDITIONS: tuple[tuple[str, float | None, float], ...] = (  # name, SNR dB, gain dB
    ("quiet", None, 0.0),
    ("far (-20 dB)", None, -20.0),
    ("noise 20 dB", 20.0, 0.0),
    ("noise 10 dB", 10.0, 0.0),
    ("noise 5 dB", 5.0, 0.0),
)
NOISE_DRAWS = 3
AFTER_WAKE = "Add batteries to my shopping list."
GAP = 0.4  # seconds between the wake word and the command
HOUR = 3600.0
LOOPS: tuple[tuple[float, float | None], ...] = ((0.0, None), (-10.0, 20.0), (6.0, 10.0))

Detector = Callable[[bytes], bool]


def _detector(engine: str, cutoff: float) -> Detector:
    if engine == "micro":
        return WakeWord(cutoff=cutoff).feed
    try:
        from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures
    except ImportError as exc:
        raise SystemExit(
            "run with: uv run --with pyopen-wakeword==1.1.0 python -m eval.wake --engine open"
        ) from exc
    model = OpenWakeWord.from_builtin(Model.OKAY_NABU)
    features = OpenWakeWordFeatures.from_builtin()
    quiet = [0]  # frames to ignore after a detection: one wake word is one wake

    def feed(pcm: bytes) -> bool:
        heard = False
        for feature in features.process_streaming(pcm):
            for probability in model.process_streaming(feature):
                if quiet[0] > 0:
                    quiet[0] -= 1
                elif probability > cutoff:
                    heard, quiet[0] = True, 20
        return heard

    return feed


def _pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def detection(engine: str, cutoff: float) -> dict[str, Any]:
    command = {voice: speech(Turn(AFTER_WAKE, voice=voice)) for voice in VOICES}
    by_condition: dict[str, list[bool]] = {name: [] for name, _snr, _gain in CONDITIONS}
    delays: list[float] = []
    extra = 0  # detections that were not at the wake word
    missed: list[str] = []
    for voice in VOICES:
        for phrase in PHRASES:
            wake = speech(Turn(phrase, voice=voice))
            lead, gap = np.zeros(int(0.5 * RATE), np.float32), np.zeros(int(GAP * RATE))
            words = np.concatenate([lead, wake, gap, command[voice], lead])
            window_end = lead.size + wake.size + int(0.5 * RATE)
            for name, snr, gain in CONDITIONS:
                for draw in range(NOISE_DRAWS if snr is not None else 1):
                    signal = words * 10 ** (gain / 20)
                    if snr is not None:
                        signal = signal + _noise(signal.size, wake, snr, seed=draw + 7)
                    feed = _detector(engine, cutoff)
                    pcm = _pcm(signal)
                    hits = [
                        i // 2
                        for i in range(0, len(pcm), FRAME * 2)
                        if feed(pcm[i : i + FRAME * 2])
                    ]
                    heard = [h for h in hits if h <= window_end]
                    extra += len(hits) - len(heard)
                    by_condition[name].append(bool(heard))
                    if heard:
                        delays.append((heard[0] - lead.size - wake.size) / RATE * 1000)
                    else:
                        missed.append(f"{voice} {phrase!r} {name}")
    rates = {name: sum(v) / len(v) for name, v in by_condition.items()}
    total = [x for v in by_condition.values() for x in v]
    return {
        "trials": len(total),
        "detected": sum(total) / len(total),
        "by_condition": rates,
        "trials_per_condition": {name: len(v) for name, v in by_condition.items()},
        "after_wake_word_end_ms_p50": statistics.median(delays) if delays else None,
        "other_detections": extra,
        "missed": missed,
    }


def _background() -> Iterator[tuple[str, np.ndarray]]:
    """Speech without the wake word: the dev-set commands in the corpus voices, then
    the real recordings, as float samples at 16 kHz."""
    _now, cases = load_dev_set()
    voices = list(VOICES)
    for i, case in enumerate(cases):
        yield "corpus", speech(Turn(case["text"], voice=voices[i % len(voices)]))
    if speech_dir() is None:
        return
    for recording in [*load_words(), *load_orders()]:
        yield "real", recording.audio.astype(np.float32) / 32768


def false_wakes(engine: str, cutoff: float, hours: float) -> dict[str, Any]:
    pieces = list(_background())
    gap = np.zeros(int(0.3 * RATE), np.float32)
    feed = _detector(engine, cutoff)
    seconds = {"corpus": 0.0, "real": 0.0}
    wakes = {"corpus": 0, "real": 0}
    busy = 0.0
    loop = 0
    while sum(seconds.values()) < hours * HOUR:
        gain, snr = LOOPS[loop % len(LOOPS)]
        for n, (kind, words) in enumerate(pieces):
            signal = np.concatenate([words * 10 ** (gain / 20), gap])
            if snr is not None:
                signal = signal + _noise(signal.size, words, snr, seed=n + 100 * loop)
            pcm = _pcm(signal)
            started = time.process_time()
            for i in range(0, len(pcm), FRAME * 2):
                wakes[kind] += feed(pcm[i : i + FRAME * 2])
            busy += time.process_time() - started
            seconds[kind] += signal.size / RATE
        loop += 1
    total = sum(seconds.values())
    return {
        "hours": total / HOUR,
        "hours_corpus": seconds["corpus"] / HOUR,
        "hours_real": seconds["real"] / HOUR,
        "loops": loop,
        "false_wakes": sum(wakes.values()),
        "false_wakes_corpus": wakes["corpus"],
        "false_wakes_real": wakes["real"],
        "per_hour": sum(wakes.values()) / (total / HOUR),
        "cpu_ms_per_audio_second": busy / total * 1000,
    }


COMMANDS = (
    "Add {item} to my shopping list.",
    "What's on my shopping list?",
    "What's on my calendar tomorrow?",
    "How much did I spend this month?",
)
# one thing per voice, other ones for the baseline: nothing is added twice
ITEMS = ("batteries", "nails", "tape", "glue", "soap")
BASELINE_ITEMS = ("string", "candles", "matches", "paper", "cups")


async def reply_time(quick: bool) -> dict[str, Any]:
    from agent.app import create_app
    from agent.loopback import loopback
    from eval.client import run_script
    from eval.local import service_with_user
    from speech.audio import Audio
    from speech.speaker import Speaker
    from speech.speaker_files import WavFolder

    voices = list(VOICES)[:1] if quick else list(VOICES)
    turns = [(v, voice, command) for v, voice in enumerate(voices) for command in COMMANDS]
    baseline: list[float] = []
    at_speaker: list[float] = []
    details: list[dict[str, Any]] = []
    async with service_with_user(None) as (services, user):
        await services.voice_models()
        token = services.tokens.issue(user.id)
        async with loopback(create_app(services=services)) as url:
            socket = url.replace("http://", "ws://") + "/v1/voice"
            for n, (v, voice, command) in enumerate(turns):  # the harness's client, no wake word
                said = command.format(item=BASELINE_ITEMS[v])
                results = await run_script(
                    socket, token, Script(f"b{n}", [Turn(said, voice=voice)])
                )
                if results and results[0].latency is not None:
                    baseline.append(results[0].latency)
            lines: list[str] = []
            with tempfile.TemporaryDirectory() as folder:
                device = Speaker(
                    f"{socket}?token={token}", WakeWord(), WavFolder(Path(folder)), say=lines.append
                )
                measured: list[tuple[float, int]] = []  # command end, replies before it

                async def spoken() -> AsyncIterator[bytes]:
                    for v, voice, command in turns:
                        text = command.format(item=ITEMS[v])
                        await device.connected()
                        await device.listening.wait()  # after a question's window too
                        before = len(device.counters.replies)
                        lead = np.zeros(int(0.3 * RATE), np.float32)
                        wake = speech(Turn("Okay Nabu.", voice=voice))
                        words = speech(Turn(text, voice=voice))
                        gap = np.zeros(int(0.6 * RATE), np.float32)
                        tail = np.zeros(int(2.0 * RATE), np.float32)
                        pcm = Audio(_pcm(np.concatenate([lead, wake, gap, words, tail])), RATE).pcm
                        last = (lead.size + wake.size + gap.size + words.size) * 2
                        start = time.perf_counter()
                        for i in range(0, len(pcm), FRAME * 2):
                            await asyncio.sleep(
                                max(0.0, start + i / 2 / RATE - time.perf_counter())
                            )
                            yield pcm[i : i + FRAME * 2]
                            if i < last <= i + FRAME * 2:
                                measured.append((time.perf_counter(), before))
                        await device.settled()

                await device.run(spoken())
                replies = device.counters.replies
                for end, before in measured:
                    # this turn's answer: the first reply whose audio came after the command
                    heard = next(
                        (
                            r
                            for r in replies[before:]
                            if r.first_audio_at and r.first_audio_at > end
                        ),
                        None,
                    )
                    if heard is None or heard.first_audio_at is None:
                        continue
                    ms = (heard.first_audio_at - end) * 1000
                    at_speaker.append(ms)
                    details.append(
                        {
                            "heard": heard.transcript,
                            "said": heard.text,
                            "ms": ms,
                            "stages": heard.timings,
                        }
                    )
    return {
        "turns": len(turns),
        "speaker_replies": len(at_speaker),
        "speaker_ms": _percentiles(at_speaker),
        "baseline_ms": _percentiles(baseline),
        # at the device minus the service's own "last speech → first reply audio made":
        # what the device, the socket and the wake word detector add
        "device_overhead_ms": _percentiles(
            [
                d["ms"] - d["stages"]["audio_ready"]
                for d in details
                if d["ms"] is not None and "audio_ready" in d["stages"]
            ]
        ),
        "turns_at_speaker": details,
        "ratio_p50": (
            statistics.median(at_speaker) / statistics.median(baseline)
            if at_speaker and baseline
            else None
        ),
    }


def _percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "n": len(ordered),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.wake", description=__doc__)
    parser.add_argument("--engine", choices=("micro", "open"), default="micro")
    parser.add_argument(
        "--cutoff",
        type=float,
        default=DEFAULT_CUTOFF,
        help="detection threshold (0.85: the model's own)",
    )
    parser.add_argument("--hours", type=float, default=1.0, help="of speech without the wake word")
    parser.add_argument("--quick", action="store_true", help="one voice for the reply time")
    skip = parser.add_mutually_exclusive_group()
    skip.add_argument("--no-latency", action="store_true", help="skip the reply time")
    skip.add_argument("--only-latency", action="store_true", help="only the reply time")
    parser.add_argument("--out", type=Path, default=Path("eval-results"))
    args = parser.parse_args(argv)
    load = Path("/proc/loadavg").read_text().split()[:3]
    result: dict[str, Any] = {
        "engine": args.engine,
        "cutoff": args.cutoff,
        "load_average": " ".join(load),
    }
    console.print(f"engine {args.engine}, load average {result['load_average']}")
    if not args.only_latency:
        result["detection"] = detection(args.engine, args.cutoff)
        console.print_json(json.dumps(result["detection"]))
        result["false_wakes"] = false_wakes(args.engine, args.cutoff, args.hours)
        console.print_json(json.dumps(result["false_wakes"]))
    if not args.no_latency:
        result["reply_time"] = asyncio.run(reply_time(args.quick))
        console.print_json(json.dumps(result["reply_time"]))
    result["load_average_after"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    args.out.mkdir(parents=True, exist_ok=True)
    part = "-reply-time" if args.only_latency else ""
    path = args.out / f"wake-{args.engine}-{args.cutoff:g}{part}.json"
    path.write_text(json.dumps(result, indent=2))
    console.print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
