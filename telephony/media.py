"""Twilio Media Streams' wire format, as a pipecat serializer: JSON text messages
carrying base64 μ-law at 8 kHz both ways.

In: `media` (caller audio), `dtmf` (keys), `mark` (Twilio has played our audio up to
a mark we sent), `stop`. Out: `media` (reply audio), `mark` after each clause and at
the end of a reply, and `clear` when the caller talks over the reply (Twilio drops
the audio it holds and returns the marks not yet reached, which are then ignored).
"""

from __future__ import annotations

import base64
import json
import time

from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    OutputTransportMessageUrgentFrame,
)
from pipecat.serializers.base_serializer import FrameSerializer

from speech.audio import mulaw_decode, mulaw_encode
from speech.frames import AudioEnd, AudioStart, BadInput, ClauseEnd, Timings, TurnRecord, Typed

PHONE_RATE = 8000
KEY_GAP = 1.2  # seconds after the last key that end a keyed entry (or "#")
KEY_WORDS = {"1": "yes", "2": "no"}  # one key alone answers a confirmation
# On a reminder call, the caller's first answer (before they speak) answers the reminder.
REMINDER_KEYS = {"1": "done", "2": "snooze ten minutes"}
END_MARK = "end"  # the mark after a reply's last audio: "end-<n>"; "clause-<n>" between
MAX_PAYLOAD = 2 * PHONE_RATE  # bytes of μ-law: 2 s; Twilio sends 20 ms


class TwilioMediaProtocol(FrameSerializer):
    def __init__(self, stream_sid: str, first_keys: dict[str, str] | None = None) -> None:
        """``first_keys``: what single keys mean for the caller's first turn (a
        reminder call's REMINDER_KEYS), if it is keyed; after it, KEY_WORDS."""
        super().__init__()
        self.stream_sid = stream_sid
        self._first_keys = first_keys
        self._record: TurnRecord | None = None  # the reply being played
        self._marks: dict[str, tuple[TurnRecord, float, bool]] = {}  # name → what it marks
        self._count = 0
        self._keys = ""
        self._last_key = 0.0
        # When the caller last started speaking or reply audio last went out: a call
        # with neither for a while is over (Twilio itself sends audio all along).
        self.last_audio = time.monotonic()
        self.timings: list[dict] = []  # each reply's stage timings, as the web socket sends
        self.stopped = False  # Twilio said the stream is over (the caller hung up)

    async def deserialize(self, data: str | bytes) -> Frame | None:
        if isinstance(data, bytes):
            return BadInput("Media Streams messages are JSON text")
        try:
            message = json.loads(data)
        except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested past the stack
            return BadInput("a Media Streams message that is not JSON")
        if not isinstance(message, dict):
            return BadInput("a Media Streams message that is not a JSON object")
        event = message.get("event")
        if event == "media":
            return self._media(message)
        if event == "dtmf":
            return self._key(_field(message, "dtmf", "digit"))
        if event == "mark":
            self._played(_field(message, "mark", "name"))
        elif event == "stop":
            self.stopped = True
        return None

    def _media(self, message: dict) -> Frame | None:
        if self._keys and time.monotonic() - self._last_key >= KEY_GAP:
            return self._keyed()  # this 20 ms of audio gives way to the keys' turn
        try:
            payload = base64.b64decode(message["media"]["payload"], validate=True)
        except (KeyError, TypeError, ValueError):
            return BadInput("a media message without base64 audio")
        if len(payload) > MAX_PAYLOAD:
            return BadInput("a media message longer than 2 seconds")
        return InputAudioRawFrame(
            audio=mulaw_decode(payload), sample_rate=PHONE_RATE, num_channels=1
        )

    def _key(self, digit: str) -> Frame | None:
        if digit == "#":
            return self._keyed()
        if digit.isdigit():
            self._keys += digit
            self._last_key = time.monotonic()
        return None

    def _keyed(self) -> Frame | None:
        keys, self._keys = self._keys, ""
        if not keys:
            return None
        words, self._first_keys = self._first_keys or KEY_WORDS, None
        return Typed(text=words.get(keys, keys))

    def _played(self, name: str) -> None:
        marked = self._marks.pop(name, None)
        if marked is None:
            return  # a mark of audio cleared by a barge-in: it was never heard
        record, seconds, last = marked
        record.played_seconds = max(record.played_seconds or 0.0, seconds)
        record.finished = record.finished or last

    def _mark(self, record: TurnRecord, seconds: float, *, last: bool = False) -> str:
        self._count += 1
        name = f"{END_MARK if last else 'clause'}-{self._count}"
        self._marks[name] = (record, seconds, last)
        return json.dumps({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})

    async def serialize(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame, OutputAudioRawFrame):
            self.last_audio = time.monotonic()
            if self._record is not None:
                self._record.sent(frame.audio, frame.sample_rate)
            payload = base64.b64encode(mulaw_encode(frame.audio)).decode()
            return json.dumps(
                {"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}}
            )
        if isinstance(frame, InterruptionFrame):
            self._record = None
            self._marks.clear()  # Twilio returns them all at once now: none were played
            return json.dumps({"event": "clear", "streamSid": self.stream_sid})
        if _speech_started(frame):
            self.last_audio = time.monotonic()
            self._first_keys = None  # the caller spoke first: keys are yes and no again
        if isinstance(frame, Timings) and frame.record is not None:
            self.timings.append(frame.record.timings())  # for logs and the eval harness
        elif isinstance(frame, AudioStart) and frame.record is not None:
            self._record = frame.record
            frame.record.played_seconds = 0.0  # heard only as far as the marks say
        elif isinstance(frame, ClauseEnd) and frame.record is not None:
            return self._mark(frame.record, frame.seconds)
        elif isinstance(frame, AudioEnd) and frame.record is not None:
            self._record = None
            return self._mark(frame.record, frame.record.sent_seconds, last=True)
        return None


def _field(message: dict, section: str, name: str) -> str:
    """``message[section][name]`` as text; "" where the message is not of Twilio's
    shape (``"dtmf": null`` once raised here and ended the call)."""
    part = message.get(section)
    return str(part.get(name, "")) if isinstance(part, dict) else ""


def _speech_started(frame: Frame) -> bool:
    """The pipeline's own event: the caller began to speak."""
    if not isinstance(frame, OutputTransportMessageUrgentFrame):
        return False
    return isinstance(frame.message, dict) and frame.message.get("type") == "speech_started"
