"""`lifeos speaker`: the device on the kitchen counter.

It listens for the wake word on the device itself; nothing leaves it until the wake
word is heard. Then it plays a short listening sound, streams what follows to the
service's voice socket (`/v1/voice`), plays the reply as it arrives, keeps sending
while the reply plays (so the user can speak over it: the service stops the reply)
and goes back to listening. A reply that asks something ("When should I remind
you?") and a reminder are answered without the wake word: the microphone stays open
for FOLLOW_UP_SECONDS after them. The socket stays open while listening, so
reminders that fire are spoken; it is reopened, with backoff, when the service
restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from speech.audio import SPEECH_RATE
from speech.pace import IDLE, REPLACED, TOO_FAST
from speech.wake import WakeWord

FRAME_BYTES = 640  # 20 ms of 16 kHz PCM16: what the device reads and sends
FRAME_SECONDS = FRAME_BYTES / 2 / SPEECH_RATE
COMMAND_WAIT_SECONDS = 5.0  # after the wake word, how long to wait for speech to begin
TURN_LIMIT_SECONDS = 30.0  # a turn that started but never got an answer is given up
FOLLOW_UP_SECONDS = 5.0  # the microphone stays open this long after a question
REPLACED_WAIT_SECONDS = 30.0  # then wait before taking the socket back
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)  # between attempts to reach the service


class SpeakerError(RuntimeError):
    """A problem the device cannot get past by retrying; the message says what to do."""


class Phase(enum.Enum):
    LISTENING = "listening"  # for the wake word only; nothing is sent
    AWAKE = "awake"  # streaming the command, waiting for the answer, playing it
    FOLLOW_UP = "follow-up"  # streaming: the reply asked something


class Sink(Protocol):
    """Where replies are heard: the sound card, or WAV files."""

    async def chime(self) -> None: ...
    async def start(self, rate: int) -> None: ...
    async def write(self, pcm: bytes) -> None: ...
    async def end(self) -> None: ...
    async def stop(self) -> None: ...  # cut the reply short (the user spoke over it)


@dataclass
class Heard:
    """One reply as the device heard it, for the log and the eval harness."""

    text: str = ""
    transcript: str = ""
    first_audio_at: float | None = None  # perf_counter when its first audio arrived
    seconds: float = 0.0
    interrupted: bool = False
    timings: dict[str, float] = field(default_factory=dict)  # the service's, in ms


@dataclass
class Counters:
    wakes: int = 0
    frames_sent: int = 0
    connections: int = 0
    replies: list[Heard] = field(default_factory=list)


def chime_sound(rate: int = SPEECH_RATE) -> bytes:
    """Two short rising notes: "I'm listening"."""
    notes = []
    for pitch in (660.0, 880.0):
        t = np.arange(int(0.09 * rate)) / rate
        envelope = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
        notes.append(0.3 * envelope * np.sin(2 * math.pi * pitch * t))
    samples = np.concatenate(notes)
    return (samples * 32767).astype("<i2").tobytes()


class Speaker:
    def __init__(
        self,
        url: str,
        wake: WakeWord,
        sink: Sink,
        *,
        barge_in: str = "speech",
        follow_up_seconds: float = FOLLOW_UP_SECONDS,
        say: Callable[[str], None] = print,
    ) -> None:
        if barge_in not in ("speech", "wake"):
            raise ValueError("barge_in is 'speech' or 'wake'")
        self.url, self.wake, self.sink = url, wake, sink
        self.barge_in, self.follow_up_seconds, self.say = barge_in, follow_up_seconds, say
        self.counters = Counters()
        self.phase = Phase.LISTENING
        self._until = math.inf  # when the open microphone closes again, unless speech comes
        self._socket: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._idle = asyncio.Event()  # no turn under way: the next recording may play
        self._idle.set()
        self.listening = asyncio.Event()  # set while the microphone is closed to the service
        self.listening.set()
        self._playing: Heard | None = None
        self._transcript = ""  # what the service heard in the turn being answered
        self._timings: dict[str, float] = {}  # and how long its stages took
        self._cut_short = False  # the wake word interrupted the reply here (barge-in "wake")
        self._fatal: SpeakerError | None = None
        self._detector: ThreadPoolExecutor | None = None

    @property
    def replying(self) -> Heard | None:
        """The reply being heard now, if one is."""
        return self._playing

    # --- running ---------------------------------------------------------------

    async def run(self, frames: AsyncIterator[bytes]) -> None:
        """Listen to `frames` (20 ms of 16 kHz PCM16 each) until they end."""
        # The wake word model's interpreter lives on one thread of its own: its work
        # (~40 µs a frame) stays off the event loop and is never run concurrently.
        self._detector = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wake-word")
        connection = asyncio.create_task(self._stay_connected())
        watch = asyncio.create_task(self._watch_deadline())
        try:
            async for frame in frames:
                self._raise_if_fatal()
                await self._hear(frame)
            await self.settled()
        finally:
            for task in (connection, watch):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(connection, watch)
            self._detector.shutdown(wait=False)
        self._raise_if_fatal()

    async def settled(self) -> None:
        """Wait until no turn is under way (a recording may be played next)."""
        while not self._idle.is_set():
            self._raise_if_fatal()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout=0.2)

    async def connected(self) -> None:
        while not self._connected.is_set():
            self._raise_if_fatal()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._connected.wait(), timeout=0.2)

    def _raise_if_fatal(self) -> None:
        if self._fatal is not None:
            raise self._fatal

    # --- the microphone side ------------------------------------------------------

    async def _hear(self, frame: bytes) -> None:
        loop = asyncio.get_running_loop()
        woke = await loop.run_in_executor(self._detector, self.wake.feed, frame)
        if self.phase is Phase.LISTENING:
            if woke:  # nothing before this moment was sent, nor is the wake word itself
                await self._wake_up()
            return
        if self._playing is not None and self.barge_in == "wake" and not self._cut_short:
            if not woke:
                return  # the device hears its own reply: only the wake word interrupts it
            self._cut_short = True
            self._playing.interrupted = True
            await self.sink.stop()
            await self.sink.chime()
        if woke and self.phase is Phase.FOLLOW_UP:
            self._open_for(COMMAND_WAIT_SECONDS, Phase.AWAKE)
        if self.phase is Phase.FOLLOW_UP:
            # Sent audio may hold an answer: not settled until the service has said
            # whether it heard one (speech_started) or the window has closed.
            self._idle.clear()
        await self._send(frame)

    async def _wake_up(self) -> None:
        self.counters.wakes += 1
        self.say(f"listening ({self.wake.phrase})")
        await self.sink.chime()
        self._open_for(COMMAND_WAIT_SECONDS, Phase.AWAKE)
        if self._socket is None:
            self.say("the service cannot be reached; trying again")

    async def _send(self, frame: bytes) -> None:
        socket = self._socket
        if socket is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await socket.send(frame)
            self.counters.frames_sent += 1

    def _open_for(self, seconds: float, phase: Phase) -> None:
        self.phase = phase
        self.listening.clear()
        self._until = time.monotonic() + seconds
        if phase is Phase.AWAKE:
            self._idle.clear()
        else:
            self._idle.set()

    def _listen(self) -> None:
        """Back to the wake word: the microphone is closed to the service."""
        self.phase = Phase.LISTENING
        self.listening.set()
        self._until = math.inf
        self._idle.set()

    async def _watch_deadline(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            if (
                self.phase is not Phase.LISTENING
                and self._playing is None
                and time.monotonic() > self._until
            ):
                self._listen()

    # --- the service side --------------------------------------------------------

    async def _stay_connected(self) -> None:
        failures = 0
        while True:
            wait = BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)]
            try:
                async with connect(self.url, max_size=None, open_timeout=10) as socket:
                    await socket.recv()  # ready: the pipeline is built
                    self._socket = socket
                    self.counters.connections += 1
                    self._connected.set()
                    failures = 0
                    self.say("connected")
                    async for message in socket:
                        await self._on_message(message)
                wait = 0.0
            except ConnectionClosed as closed:
                code, reason = (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (0, "")
                if code in (1008, TOO_FAST, 1003):  # a bad token or a refusal: retrying is no use
                    self._fatal = SpeakerError(f"the service refused the speaker: {reason}")
                    return
                if code == IDLE:
                    wait = 0.0  # quiet for a while: just open it again, for reminders
                elif code == REPLACED:
                    self.say("voice was opened elsewhere for this user; waiting")
                    wait = REPLACED_WAIT_SECONDS
                else:
                    failures += 1
            except InvalidStatus as exc:
                if exc.response.status_code in (401, 403, 404):
                    self._fatal = SpeakerError(
                        f"{self.url.split('?')[0]} answered {exc.response.status_code}: "
                        "is this a Life OS service?"
                    )
                    return
                failures += 1
            except (OSError, InvalidHandshake, TimeoutError):
                failures += 1
                if failures == 1:
                    self.say("the service cannot be reached; trying again")
            finally:
                self._socket = None
                self._connected.clear()
                await self._drop_turn()
            await asyncio.sleep(wait)

    async def _drop_turn(self) -> None:
        if self._playing is not None:
            await self.sink.end()
            self._playing = None
        if self.phase is not Phase.LISTENING:
            self._listen()

    async def _on_message(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            heard = self._playing
            if heard is None or self._cut_short:
                return
            if heard.first_audio_at is None:
                heard.first_audio_at = time.perf_counter()
            heard.seconds += len(message) / 2 / SPEECH_RATE
            await self.sink.write(message)
            return
        event = json.loads(message)
        kind = event.get("type")
        if kind == "speech_started" and self.phase is not Phase.LISTENING:
            self._open_for(TURN_LIMIT_SECONDS, Phase.AWAKE)
        elif kind == "transcript":
            self._transcript = event.get("text", "")
            self.say(f"heard: {self._transcript}")
        elif kind == "audio_start":
            if self._playing is not None:  # the last one never announced its end
                await self._reply_ended()
            self._playing = Heard(transcript=self._transcript, timings=self._timings)
            self._transcript, self._timings = "", {}
            self._cut_short = False
            self._idle.clear()
            await self.sink.start(int(event.get("rate", SPEECH_RATE)))
        elif kind == "reply" and self._playing is not None:
            self._playing.text = event.get("text", "")
            self.say(f"said:  {self._playing.text}")
        elif kind == "timings":  # just before the reply's audio_start
            self._timings = {k: v for k, v in event.items() if isinstance(v, int | float)}
        elif kind == "reminder":
            self.say(f"reminder: {event.get('title', '')}")
        elif kind == "interrupted":  # the service heard the user over its reply
            heard, self._playing = self._playing, None
            if heard is not None:
                heard.interrupted = True
                heard.text = heard.text or event.get("heard", "")
                self.counters.replies.append(heard)
                await self.sink.stop()
            self._open_for(TURN_LIMIT_SECONDS, Phase.AWAKE)
        elif kind == "audio_end":
            await self._reply_ended()
        elif kind in ("notice", "error"):
            self.say(f"{kind}: {event.get('message', '')}")

    async def _reply_ended(self) -> None:
        heard, self._playing = self._playing, None
        self._cut_short = False
        if heard is None:
            return
        await self.sink.end()
        self.counters.replies.append(heard)
        if heard.interrupted:
            return  # the user is already saying something else: the turn goes on
        # A question, or a reminder ("done", "snooze ten minutes"), is answered
        # without the wake word; anything else closes the microphone.
        if heard.text.rstrip().endswith("?") or heard.text.startswith("Reminder"):
            self._open_for(self.follow_up_seconds, Phase.FOLLOW_UP)
            self.say("listening for your answer")
        else:
            self._listen()
