"""How often one phone number (or one user) may do something, as a `limits` rate
("20/minute", "10/hour"): the one set-up behind the text, call and PIN limits.

Counts live in this process's memory, in a moving window: a service process serves
a household, and a restart forgetting a flood's count is harmless."""

from __future__ import annotations

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

DEFAULT_SMS_LIMIT = "20/minute"  # texts in per number
DEFAULT_CALL_LIMIT = "10/hour"  # calls in per number
DEFAULT_PIN_LIMIT = "5/15minutes"  # wrong phone PINs per user


class PerKeyLimit:
    """``hit(key)`` counts one and says whether it was within the rate; ``allows(key)``
    says whether one more would be, without counting."""

    def __init__(self, rate: str) -> None:
        self.rate = parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key: str) -> bool:
        return self._limiter.hit(self.rate, key)

    def allows(self, key: str) -> bool:
        return self._limiter.test(self.rate, key)
