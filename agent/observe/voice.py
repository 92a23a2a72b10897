"""What the service does with each finished voice turn: count it and its stages,
trace it when tracing is on, and log one line with its id and timings (the reply's
words only at DEBUG)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from agent.observe import context
from agent.observe.metrics import Metrics, stage_times

if TYPE_CHECKING:  # speech.* here import pipecat: loaded with the first voice connection
    from agent.observe.tracing import Tracing
    from speech.frames import TurnRecord
    from speech.observe import TurnDone

log = logging.getLogger(__name__)


def turn_reporter(metrics: Metrics, tracing: Tracing | None, channel: str) -> TurnDone:
    """The callback a voice connection on ``channel`` ("web", "phone") calls per turn."""

    def report(record: TurnRecord) -> None:
        if record.ended_by == "service":
            return  # a reminder said unasked: no user turn to measure
        metrics.voice_turn(channel, record)
        if tracing is not None:
            tracing.voice_turn(channel, record)
        token = context.turn_id.set(record.turn_id)
        try:
            timings = {f"{stage}_ms": round(ms, 1) for stage, ms in stage_times(record).items()}
            log.info(
                "voice turn on %s ended by %s",
                channel,
                record.ended_by,
                extra={"channel": channel, **timings},
            )
            if log.isEnabledFor(logging.DEBUG):
                reply = " ".join(text for text, _seconds in record.clauses)
                log.debug("voice turn heard %r, said %r", record.transcript, reply)
        finally:
            context.turn_id.reset(token)

    return report
