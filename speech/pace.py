"""How fast a voice client may send audio: a token bucket of audio seconds."""

from __future__ import annotations

import asyncio
import time

# Audio faster than real time makes the turn detector's work (on the event loop)
# everyone's wait. A client may send BURST_SECONDS at once — a whole recorded command,
# as `lifeos talk` does, or a microphone catching up after a stall — and after that at
# most SPEED times real time.
BURST_SECONDS = 30.0
SPEED = 2.0
TOO_FAST = 1008  # close code (policy violation): audio arrived much faster than real time
IDLE = 4001  # close code: no audio either way for the idle limit
REPLACED = 4000  # close code: the same user opened voice somewhere else
TOO_FAST_REASON = "audio arrives much faster than real time"
# Seconds of allowance a new connection needs, or it is refused before anything is
# built for it: a client refused for flooding waits MIN_TO_OPEN / SPEED seconds.
MIN_TO_OPEN = 5.0


class AudioPace:
    """A token bucket of audio seconds: full at BURST_SECONDS, refilled at SPEED
    seconds of audio per second of wall time."""

    def __init__(self, burst: float = BURST_SECONDS, speed: float = SPEED) -> None:
        self.burst, self.speed = burst, speed
        self._level = burst
        self._at = time.monotonic()

    def left(self) -> float:
        """Seconds of audio that may be sent at once now."""
        at = time.monotonic()
        self._level = min(self.burst, self._level + (at - self._at) * self.speed)
        self._at = at
        return self._level

    def take(self, seconds: float) -> bool:
        if seconds > self.left():
            return False
        self._level -= seconds
        return True


# A client streaming a recording sends up to this much of it at once (half the
# socket's allowance: a spoken command is not held back waiting to "play out") and
# keeps any more to real time, so it never runs into the refusal above.
AT_ONCE_SECONDS = BURST_SECONDS / 2


class SendPace:
    """The client's side of the bucket: `before(seconds)` waits until that much more
    recorded audio may go."""

    def __init__(self, at_once: float = AT_ONCE_SECONDS) -> None:
        self.at_once = at_once
        self._start: float | None = None
        self._sent = 0.0  # seconds of audio sent so far

    async def before(self, seconds: float) -> None:
        if self._start is None:
            self._start = time.perf_counter()
        ahead = self._sent - self.at_once - (time.perf_counter() - self._start)
        if ahead > 0:
            await asyncio.sleep(ahead)
        self._sent += seconds
