"""How often one phone number (or one user) may do something, as a `limits` rate
("20/minute", "10/hour"): the one set-up behind the text, call and PIN limits.

They count in the service's shared counts (store.limits): in Redis when it is
configured, so a flood spread over several service processes is still one flood,
and in this process's memory otherwise or while Redis is down. A moving window: the
limits are small, and each hit's time is kept."""

from __future__ import annotations

from limits import parse

from store.limits import Counts, Limiter

DEFAULT_SMS_LIMIT = "20/minute"  # texts in per number
DEFAULT_CALL_LIMIT = "10/hour"  # calls in per number
DEFAULT_PIN_LIMIT = "5/15minutes"  # wrong phone PINs per user


class PerKeyLimit:
    """``hit(key)`` counts one and says whether it was within the rate; ``allows(key)``
    says whether one more would be, without counting. ``kind`` ("sms", "call", "pin")
    keeps each limit's counts apart from the others' in the shared storage."""

    def __init__(self, rate: str, kind: str, counts: Counts | None = None) -> None:
        self.rate = parse(rate)
        self.kind = kind
        self._limiter = Limiter(counts or Counts(), moving=True)

    async def hit(self, key: str) -> bool:
        return await self._limiter.hit(self.rate, "phone", self.kind, key) is None

    async def allows(self, key: str) -> bool:
        return await self._limiter.retry_after(self.rate, "phone", self.kind, key) is None
