"""The voice socket's wire format, as a pipecat serializer.

In: binary frames of mono audio, 16-bit little-endian PCM (or 8-bit μ-law for phone
audio) at the rate the client declared. Out: binary frames of reply audio in the
same format at the output rate, and JSON text events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
)
from pipecat.serializers.base_serializer import FrameSerializer

from speech.audio import mulaw_decode, mulaw_encode
from speech.frames import AudioEnd, AudioStart, BadInput, ClauseEnd, Timings, TurnRecord
from speech.pace import TOO_FAST, TOO_FAST_REASON, AudioPace

Encoding = Literal["pcm16", "mulaw"]
MAX_FRAME_SECONDS = 2.0  # no client sends more in one frame; more is a mistake or abuse
Refuse = Callable[[int, str], Awaitable[None]]  # close code, reason


class VoiceProtocol(FrameSerializer):
    """With ``refuse``, audio beyond ``pace`` is refused: ``refuse`` is awaited with a
    close code and reason (it tells the client and closes) and the audio dropped."""

    def __init__(
        self,
        *,
        in_rate: int,
        out_rate: int,
        encoding: Encoding = "pcm16",
        pace: AudioPace | None = None,
        refuse: Refuse | None = None,
    ) -> None:
        super().__init__()
        self.in_rate, self.out_rate, self.encoding = in_rate, out_rate, encoding
        self._width = 2 if encoding == "pcm16" else 1
        self._max_bytes = int(in_rate * MAX_FRAME_SECONDS) * self._width
        self._record: TurnRecord | None = None  # the reply being written
        self._pace, self._refuse = pace, refuse
        self._refused = False
        self.last_audio = time.monotonic()  # audio last came in or went out

    async def deserialize(self, data: str | bytes) -> Frame | None:
        if isinstance(data, str) or self._refused:
            return None  # text is reserved for control messages; none are needed yet
        if len(data) % self._width or len(data) > self._max_bytes:
            return BadInput(
                f"send {'16-bit PCM' if self._width == 2 else 'μ-law'} at {self.in_rate} Hz "
                f"in frames of at most {MAX_FRAME_SECONDS:g} seconds"
            )
        self.last_audio = time.monotonic()
        seconds = len(data) / self._width / self.in_rate
        if self._pace is not None and self._refuse is not None and not self._pace.take(seconds):
            self._refused = True
            await self._refuse(TOO_FAST, TOO_FAST_REASON)
            return None
        pcm = data if self.encoding == "pcm16" else mulaw_decode(data)
        return InputAudioRawFrame(audio=pcm, sample_rate=self.in_rate, num_channels=1)

    async def serialize(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame, OutputAudioRawFrame):
            self.last_audio = time.monotonic()
            if self._record is not None:
                self._record.sent(frame.audio, frame.sample_rate)
            return frame.audio if self.encoding == "pcm16" else mulaw_encode(frame.audio)
        if isinstance(frame, ClauseEnd):
            return None  # the web client hears what it is sent: no marks needed
        if isinstance(frame, AudioStart):
            self._record = frame.record
        elif isinstance(frame, AudioEnd) and frame.record is not None:
            frame.record.finished = True
            self._record = None
            return json.dumps(frame.record.delivery())
        if isinstance(frame, Timings) and frame.record is not None:
            return json.dumps(frame.record.timings())
        if isinstance(frame, (OutputTransportMessageFrame, OutputTransportMessageUrgentFrame)):
            return json.dumps(frame.message)
        return None
