"""The change bus: a notice per committed change, fanned out to every watcher.

In one process the notices go straight to each subscriber's queue. With
LIFEOS_REDIS_URL set they go through one Redis pub/sub channel instead, so a change
committed by another service process (an SMS handled there, say) reaches the pages
connected to this one. The webhook outbox is a different thing: this bus keeps
nothing, and a watcher that is not connected misses the notice (it reads afresh
when it connects again).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

CHANNEL = "lifeos:changes"
# A watcher further behind than this is told of the oldest notices no more: it only
# needs to know that something changed, and the newest notices say so.
QUEUE_SIZE = 256


@dataclass(frozen=True)
class ChangeNotice:
    """One row created, changed or deleted (or an action with no rows, by its name)."""

    kind: str  # the table (tasks, lists, events, transactions…) or the audit resource type
    id: str | None
    action: str  # created, updated, deleted, undone, imported, or the audited action
    owner_id: str  # whose row it is
    actor_id: str  # who made the change
    # The households it was shared with and a task's lists (the list decides who may
    # see an item), before and after: unsharing is news to those it was shared with.
    household_ids: tuple[str, ...] = ()
    list_ids: tuple[str, ...] = ()

    def encode(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def decode(cls, data: str | bytes) -> ChangeNotice:
        fields = json.loads(data)
        for name in ("household_ids", "list_ids"):
            fields[name] = tuple(fields.get(name) or ())
        return cls(**fields)

    def ones_own(self, user_id: uuid.UUID) -> bool:
        """A row of one's own, or a change one made oneself (removing a member: their
        membership, one's own doing)."""
        return str(user_id) in (self.owner_id, self.actor_id)


class Broadcaster(Protocol):
    def publish(self, notice: ChangeNotice) -> None:
        """Hand a committed change on; never blocks (it is called right after commit)."""

    def subscribe(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[ChangeNotice]]:
        """Notices published from now on, until the block ends."""

    async def close(self) -> None: ...


class LocalBroadcaster:
    """Fan-out inside this process: one bounded queue per subscriber."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[ChangeNotice]] = set()

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, notice: ChangeNotice) -> None:
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()  # drop the oldest: the newest says as much
            queue.put_nowait(notice)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[ChangeNotice]]:
        queue: asyncio.Queue[ChangeNotice] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues.discard(queue)

    async def close(self) -> None:
        self._queues.clear()


async def _drain(queue: asyncio.Queue[ChangeNotice]) -> AsyncIterator[ChangeNotice]:
    while True:
        yield await queue.get()


class RedisBroadcaster:
    """Every process publishes to one Redis channel and fans out what it hears there.

    Publishing queues the notice for a writer task (the commit that made it must not
    wait for Redis); one reader task per process listens while anyone subscribes. If
    Redis cannot be reached the notice is delivered in this process only, and logged."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url)
        self._local = LocalBroadcaster()
        self._outgoing: asyncio.Queue[ChangeNotice] = asyncio.Queue(QUEUE_SIZE * 4)
        self._writer: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def publish(self, notice: ChangeNotice) -> None:
        if self._outgoing.full():
            self._outgoing.get_nowait()
        self._outgoing.put_nowait(notice)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[ChangeNotice]]:
        async with self._local.subscribe() as notices:
            if self._reader is None or self._reader.done():
                self._listening.clear()
                self._reader = asyncio.get_running_loop().create_task(self._read())
            await self._listening.wait()  # what is published from here on is heard
            yield notices

    async def close(self) -> None:
        for task in (self._writer, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._local.close()
        await self._redis.aclose()

    async def _write(self) -> None:
        while not self._outgoing.empty():
            notice = self._outgoing.get_nowait()
            try:
                await self._redis.publish(CHANNEL, notice.encode())
            except Exception as exc:  # Redis down: this process's watchers still hear it
                log.warning("change not published to Redis (%s); delivered locally", exc)
                self._local.publish(notice)

    async def _read(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
            self._listening.set()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self._local.publish(ChangeNotice.decode(message["data"]))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("stopped listening for changes on Redis: %s", exc)
        finally:
            self._listening.set()  # never leave a subscriber waiting on a dead reader
            with contextlib.suppress(Exception):
                await pubsub.aclose()


def broadcaster(redis_url: str | None) -> Broadcaster:
    """Redis pub/sub when configured (every process hears every change), else in-process."""
    return RedisBroadcaster(redis_url) if redis_url else LocalBroadcaster()
