"""The harness's voice client: it streams a script's clips over the real WebSocket
in real time, 20 ms a frame, as a microphone would, and notes what arrives when."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect

from eval.corpus import Clip, Script, Turn, clip
from speech.audio import mulaw_encode

FRAME_SECONDS = 0.02
REPLY_WAIT = 8.0  # seconds of room sound after the words before giving up on a reply
BARGE_IN_AFTER = 0.4  # seconds of reply heard before the user talks over it


@dataclass
class TurnResult:
    text: str
    heard: str | None = None  # the server's transcript
    latency: float | None = None  # ms: last speech sample sent → first reply audio byte
    stages: dict[str, float] = field(default_factory=dict)  # the server's timings event
    cut_off: bool = False  # the turn ended while the user was still speaking
    barge_in_stop: float | None = None  # ms: onset of speech over the reply → its audio stops
    began: float = 0.0


class Listener:
    """Collects what the server sends, stamped with arrival time."""

    def __init__(self) -> None:
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.audio: list[tuple[float, int]] = []  # arrival, bytes
        self.changed = asyncio.Event()

    async def run(self, socket: Any) -> None:
        with contextlib.suppress(Exception):
            async for message in socket:
                at = time.perf_counter()
                if isinstance(message, bytes):
                    self.audio.append((at, len(message)))
                else:
                    self.events.append((at, json.loads(message)))
                self.changed.set()

    def first(self, kind: str, after: float) -> tuple[float, dict[str, Any]] | None:
        return next(((t, e) for t, e in self.events if e["type"] == kind and t >= after), None)

    def first_audio(self, after: float) -> float | None:
        return next((t for t, _n in self.audio if t >= after), None)


async def run_script(url: str, token: str, script: Script) -> list[TurnResult]:
    phone = script.phone
    query = f"token={token}" + ("&rate=8000&encoding=mulaw" if phone else "")
    results: list[TurnResult] = []
    async with connect(f"{url}?{query}", max_size=None) as socket:
        listener = Listener()
        reading = asyncio.create_task(listener.run(socket))
        try:
            await _wait_for(listener, lambda: listener.first("ready", 0) is not None, 10)
            for n, turn in enumerate(script.turns):
                sound = clip(turn, phone=phone, tail=REPLY_WAIT, seed=n + len(script.id))
                result, answered_at = await _speak(socket, listener, sound, turn, phone)
                results.append(result)
                following = script.turns[n + 1] if n + 1 < len(script.turns) else None
                if following is None:
                    break  # measured: the rest of the reply need not be heard out
                if following.barge_in and answered_at is not None:
                    # talk over the reply once a little of it has played
                    await asyncio.sleep(
                        max(0.0, answered_at + BARGE_IN_AFTER - time.perf_counter())
                    )
                else:  # let the reply play out, as a listener would
                    await _wait_for(listener, lambda: _reply_over(listener, results[-1].began), 10)
        finally:
            await socket.close()
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
    return results


def _reply_over(listener: Listener, began: float) -> bool:
    """The reply has played out: its end was announced, or no audio for a while."""
    if listener.first("audio_end", began) is not None:
        return True
    last = listener.audio[-1][0] if listener.audio else 0.0
    return last > began and time.perf_counter() - last > 0.6


async def _speak(
    socket: Any, listener: Listener, sound: Clip, turn: Turn, phone: bool
) -> tuple[TurnResult, float | None]:
    """Stream one clip in real time until the reply's first audio arrives (or the
    room sound runs out). Returns the result and when the reply began."""
    step = int(sound.rate * FRAME_SECONDS)
    samples = len(sound.pcm) // 2
    began = time.perf_counter()
    result = TurnResult(turn.text, began=began)
    sent_end: float | None = None
    onset: float | None = None
    for i in range(0, samples, step):
        target = began + (i + step) / sound.rate
        await asyncio.sleep(max(0.0, target - time.perf_counter()))
        chunk = sound.pcm[i * 2 : (i + step) * 2]
        await socket.send(mulaw_encode(chunk) if phone else chunk)
        now = time.perf_counter()
        if onset is None and i + step > sound.speech_start:
            onset = now
        if sent_end is None and i + step > sound.speech_end:
            sent_end = now
        if sent_end is not None and listener.first_audio(sent_end) is not None:
            break
    await asyncio.sleep(0.05)  # the timings event travels just ahead of the audio
    result.cut_off = _ended_early(listener, began, sent_end)
    assert onset is not None and sent_end is not None
    audio_at = listener.first_audio(sent_end)
    result.latency = None if audio_at is None else (audio_at - sent_end) * 1000
    transcript = listener.first("transcript", began)
    result.heard = transcript[1]["text"] if transcript else None
    timings = listener.first("timings", began)
    result.stages = (
        {k: v for k, v in timings[1].items() if k not in ("type", "clock")} if timings else {}
    )
    clock = timings[1].get("clock") if timings else None
    if clock and audio_at is not None:
        # the server's moments are on this machine's monotonic clock, as perf_counter is
        result.stages["endpoint_wait"] = (clock["ended"] - sent_end) * 1000
        result.stages["transport"] = (audio_at - clock["audio_ready"]) * 1000
    # Reply audio that was still arriving when this turn's words began was talked over.
    talked_over = [t for t, _n in listener.audio if onset <= t <= sent_end]
    if turn.barge_in and talked_over:
        result.barge_in_stop = (max(talked_over) - onset) * 1000
    return result, audio_at


def _ended_early(listener: Listener, began: float, sent_end: float | None) -> bool:
    """A turn ended (its transcript came back) before the last word was sent."""
    ends = [t for t, e in listener.events if e["type"] == "transcript" and t >= began]
    return bool(ends) and (sent_end is None or ends[0] < sent_end)


async def _wait_for(listener: Listener, condition: Any, seconds: float) -> None:
    """Until `condition()` holds after something arrives, or `seconds` pass."""
    deadline = time.perf_counter() + seconds
    while not condition():
        listener.changed.clear()
        left = deadline - time.perf_counter()
        if left <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listener.changed.wait(), left)
