"""Rate limits with the `limits` library, counted in Redis when LIFEOS_REDIS_URL is set
(several service processes then share one count) and in this process's memory
otherwise. If Redis stops answering, counting goes on in memory — a limit per process
is better than none, and far better than refusing everyone — and Redis is tried again
after a pause; /healthz says which is in use.

The counts live here, in the store, because they are shared state like the database
and because both the routes' guards (agent) and the phone's limits (telephony) count
in them, and the store is the one package of ours both may import."""

from __future__ import annotations

import logging
import math
import time
from typing import Literal

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

log = logging.getLogger(__name__)

RETRY_REDIS_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.5  # a limit check must not hold a request up for long


class Limiter:
    """One kind of limit check over the shared storage.

    ``moving`` keeps every hit's time (exact; for small limits such as sign-ins);
    otherwise a sliding window counter (two counters a key: cheap for busy limits)."""

    def __init__(self, counts: Counts, *, moving: bool = False) -> None:
        self._counts = counts
        self._moving = moving

    async def hit(self, item: RateLimitItem, *keys: str) -> int | None:
        """Count one hit; seconds to wait when it was over the limit, else None."""
        return await self._ask("hit", item, keys)

    async def retry_after(self, item: RateLimitItem, *keys: str) -> int | None:
        """Seconds to wait before another hit would count, or None when it may now."""
        return await self._ask("test", item, keys)

    async def _ask(
        self, how: Literal["hit", "test"], item: RateLimitItem, keys: tuple[str, ...]
    ) -> int | None:
        limiter = self._counts.limiter(self._moving)
        try:
            if await getattr(limiter, how)(item, *keys):
                return None
            return await self._wait(limiter, item, keys)
        except Exception as exc:  # Redis down or timing out: count in memory
            self._counts.lost(exc)
            return await self._ask(how, item, keys)

    @staticmethod
    async def _wait(limiter: RateLimiter, item: RateLimitItem, keys: tuple[str, ...]) -> int:
        reset = (await limiter.get_window_stats(item, *keys)).reset_time
        return max(1, math.ceil(reset - time.time()))


class Counts:
    """Where hits are counted: Redis when configured and answering, else memory."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._memory = MemoryStorage()
        self._redis: Storage | None = None
        if redis_url:
            self._redis = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                key_prefix="lifeos-limits",
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        self._redis_down_until = 0.0

    @property
    def where(self) -> str:
        """ "memory", "redis", or "memory (redis unreachable)" for /healthz."""
        if self._redis is None:
            return "memory"
        return "redis" if self._redis_up() else "memory (redis unreachable)"

    def limiter(self, moving: bool) -> RateLimiter:
        storage = self._redis if self._redis is not None and self._redis_up() else self._memory
        kind = MovingWindowRateLimiter if moving else SlidingWindowCounterRateLimiter
        return kind(storage)

    def lost(self, exc: Exception) -> None:
        """Redis failed a check: count in memory for a while, then try it again."""
        if self._redis is None or not self._redis_up():
            raise exc  # memory itself failed: a bug, not an outage
        log.warning("rate limits: Redis unreachable (%s); counting in memory", type(exc).__name__)
        self._redis_down_until = time.monotonic() + RETRY_REDIS_SECONDS

    def _redis_up(self) -> bool:
        return time.monotonic() >= self._redis_down_until
