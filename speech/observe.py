"""Tells the composition root about each finished turn, so metrics, logs and traces
are derived from the one record the stages wrote (speech/frames.py `TurnRecord`)
instead of timing anything a second time.

A pipecat observer: it watches frames pass and changes none of them. A turn is
reported once: when its reply's last audio has been written to the client (the
output transport passes `AudioEnd` on after writing it, so the first audio's send
time is known), or, for a reply the user talked over, when the next turn's reply
starts or the connection ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.frame_processor import FrameProcessor

from speech.frames import AudioEnd, Timings, TurnRecord

TurnDone = Callable[[TurnRecord], None]
log = logging.getLogger(__name__)


class TurnObserver(BaseObserver):
    def __init__(self, done: TurnDone, output: FrameProcessor) -> None:
        super().__init__()
        self._done = done
        self._output = output  # the transport's output: after it, audio has gone out
        self._open: dict[str, TurnRecord] = {}  # replies begun and not yet reported

    async def on_push_frame(self, data: FramePushed) -> None:
        frame = data.frame
        if isinstance(frame, Timings) and frame.record is not None and data.first_push:
            for earlier in list(self._open.values()):
                self._report(earlier)  # cut short: its AudioEnd never came
            self._open[frame.record.turn_id] = frame.record
        elif (
            isinstance(frame, AudioEnd) and frame.record is not None and data.source is self._output
        ):
            self._report(frame.record)

    def flush(self) -> None:
        """The connection ended: report the replies still open."""
        for record in list(self._open.values()):
            self._report(record)

    def _report(self, record: TurnRecord) -> None:
        if self._open.pop(record.turn_id, None) is None:
            return  # reported already (or said without a Timings frame)
        try:
            self._done(record)
        except Exception:  # watching must never break the conversation
            log.exception("reporting a voice turn failed")
