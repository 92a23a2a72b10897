"""pipecat logs through loguru: its banner at import and every frame decision at
DEBUG. Keep warnings and errors, and pass them to the standard `logging` module as
the "pipecat" logger, so they come out in the service's format (JSON or text) with
its ids. Call before pipecat is first imported."""

from __future__ import annotations

import logging
from typing import Any

_pipecat = logging.getLogger("pipecat")


def quiet_pipecat() -> None:
    from loguru import logger

    logger.remove()
    logger.add(_to_logging, level="WARNING", format="{message}")


def _to_logging(message: Any) -> None:
    """A loguru sink: the record's level, message and exception, as a `logging` line.
    The exception travels as such (agent/logs.py reduces its traceback to types and
    places), never as loguru's text with the values of each frame's variables."""
    record = message.record
    level = logging.getLevelName(record["level"].name)
    exception = record["exception"]
    exc_info = (exception.type, exception.value, exception.traceback) if exception else None
    _pipecat.log(
        level if isinstance(level, int) else logging.WARNING, record["message"], exc_info=exc_info
    )
