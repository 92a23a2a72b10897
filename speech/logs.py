"""pipecat logs through loguru: its banner at import and every frame decision at
DEBUG. Keep warnings and errors. Call before pipecat is first imported."""

from __future__ import annotations

import sys


def quiet_pipecat() -> None:
    from loguru import logger

    logger.remove()
    # diagnose=False: loguru would otherwise print every variable's value beside
    # each line of a traceback, the words a user said among them.
    logger.add(sys.stderr, level="WARNING", diagnose=False)
