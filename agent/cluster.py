"""The newest voice connection per user wins, across service processes.

Each process keeps its own sockets (a voice session stays on the process that holds
it); what they share is one fact, told through Redis pub/sub: "user U opened voice
as the n-th connection". Redis numbers the openings (INCR), so every process agrees
which is newest whatever order the messages arrive in; a process holding an older
connection for U closes it with the same notice as a takeover within one process.

A reminder for the page goes to the user's live connection wherever it is: a
process without one here asks all of them on one channel (PUBLISH says how many
listen, itself included), each answers on the asker's own channel whether it said
it there, and the asker takes the first "delivered", or "no open page" once all have
answered; a process that does not answer within ANSWER_SECONDS counts as none.

Without Redis, or while it is unreachable, the rule holds within each process only
and /healthz says so, and a reminder reaches a page on this process only; the
listener reconnects by itself when Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import asdict
from typing import Any

from fastapi import WebSocketDisconnect
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from agent.reminders.channels import DeliveryResult
from speech.pace import REPLACED

log = logging.getLogger(__name__)

CHANNEL = "lifeos:voice:opened"
ORDER_KEY = "lifeos:voice:order"
ANNOUNCE = "lifeos:voice:announce"  # "say this to user U, if their page is open on you"
ANSWERS = "lifeos:voice:announced:"  # + the asking process: where each process answers
ANSWER_SECONDS = 2.0  # a reminder waits no longer for the other processes
NO_PAGE = "no open page"
RETRY_SECONDS = 1.0  # between attempts to reach Redis again
REDIS_TIMEOUT_SECONDS = 0.5  # opening a voice socket must not wait long on Redis
HEALTH_CHECK_SECONDS = 5
REPLACED_NOTICE = "Voice was opened in another window; this one is closed."


async def close_replaced(connection: Any) -> None:
    """Tell an older connection that a newer one took over, close it and stop it."""
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # it may be gone already
        await connection.socket.send_json({"type": "notice", "message": REPLACED_NOTICE})
        await connection.socket.close(code=REPLACED, reason="opened elsewhere")
    await connection.stop("replaced by a newer connection")


class VoiceCluster:
    """This process's side of the rule; ``connections`` is its user → live connection."""

    def __init__(self, redis_url: str | None, connections: dict[uuid.UUID, Any]) -> None:
        self._connections = connections
        self._order: dict[uuid.UUID, tuple[Any, int]] = {}  # user → (connection, its number)
        self._process = uuid.uuid4().hex
        self._url = redis_url
        self._redis: aioredis.Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._up = False
        self._asked: dict[str, asyncio.Queue[DeliveryResult]] = {}  # request → its answers

    @property
    def where(self) -> str:
        """For /healthz: "redis" (every process), or "this process" (and why)."""
        if self._url is None:
            return "this process"
        return "redis" if self._up else "this process (redis unreachable)"

    async def start(self) -> None:
        if self._url is None or self._listener is not None:
            return
        self._redis = aioredis.from_url(
            self._url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            health_check_interval=HEALTH_CHECK_SECONDS,  # a quiet subscription is pinged
        )
        self._listener = asyncio.create_task(self._listen(), name="voice-cluster")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def opened(self, user_id: uuid.UUID, connection: Any) -> None:
        """``connection`` is now the user's newest here: tell the other processes."""
        if self._redis is None or not self._up:  # down: the listener is retrying it
            return
        try:
            number = await self._redis.incr(ORDER_KEY)
            self._order[user_id] = (connection, number)
            message = {"user": str(user_id), "number": number, "process": self._process}
            await self._redis.publish(CHANNEL, json.dumps(message))
        except (RedisError, OSError) as exc:
            self._lost(exc)

    def closed(self, user_id: uuid.UUID, connection: Any) -> None:
        if self._order.get(user_id, (None, 0))[0] is connection:
            del self._order[user_id]

    async def announce(
        self, user_id: uuid.UUID, text: str, event: dict[str, Any]
    ) -> DeliveryResult:
        """Send ``event`` to the user's live voice connection and speak ``text`` there:
        on this process, or on whichever process holds it (through Redis, when up)."""
        if user_id in self._connections or self._redis is None or not self._up:
            return await self._announce_here(user_id, text, event)
        try:
            return await self._ask_everyone(user_id, text, event)
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return DeliveryResult.unreachable(f"{NO_PAGE} here (Redis unreachable)")

    async def _announce_here(
        self, user_id: uuid.UUID, text: str, event: dict[str, Any]
    ) -> DeliveryResult:
        connection = self._connections.get(user_id)
        if connection is None:
            return DeliveryResult.unreachable(NO_PAGE)
        if not await connection.announce(text, event):
            return DeliveryResult.unreachable("the page closed")
        return DeliveryResult.delivered(connection.conversation)

    async def _ask_everyone(
        self, user_id: uuid.UUID, text: str, event: dict[str, Any]
    ) -> DeliveryResult:
        assert self._redis is not None
        request = uuid.uuid4().hex
        answers: asyncio.Queue[DeliveryResult] = asyncio.Queue()
        self._asked[request] = answers
        message = {
            "request": request,
            "process": self._process,
            "user": str(user_id),
            "text": text,
            "event": event,
        }
        outcome = DeliveryResult.unreachable(NO_PAGE)
        try:
            listening = await self._redis.publish(ANNOUNCE, json.dumps(message))
            async with asyncio.timeout(ANSWER_SECONDS):
                for _ in range(listening):
                    answer = await answers.get()
                    if answer.result == "delivered":
                        return answer
                    if answer.detail != NO_PAGE:  # a page that closed or broke says more
                        outcome = answer
        except TimeoutError:
            return DeliveryResult.unreachable("no process answered in time")
        finally:
            del self._asked[request]
        return outcome

    async def _requested(self, message: dict[str, Any]) -> None:
        """Another process (or this one) asks: say it here if the user's page is here."""
        assert self._redis is not None
        user_id = uuid.UUID(message["user"])
        try:
            result = await self._announce_here(user_id, message["text"], message["event"])
        except Exception as exc:  # a broken connection must not stop this listener
            log.exception("announcing on a voice connection failed")
            result = DeliveryResult.failed(f"{type(exc).__name__}: {exc}")
        answer = {"request": message["request"], **asdict(result)}
        await self._redis.publish(ANSWERS + message["process"], json.dumps(answer))

    def _answered(self, message: dict[str, Any]) -> None:
        answers = self._asked.get(message.pop("request"))
        if answers is not None:  # else it came after the asker stopped waiting
            answers.put_nowait(DeliveryResult(**message))

    async def _listen(self) -> None:
        while True:
            try:
                await self._follow()
            except (RedisError, OSError) as exc:
                self._lost(exc)
            await asyncio.sleep(RETRY_SECONDS)

    async def _follow(self) -> None:
        assert self._redis is not None
        async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(CHANNEL, ANNOUNCE, ANSWERS + self._process)
            if not self._up:
                log.info("voice connections: shared through Redis")
            self._up = True
            while True:
                # A bounded wait: the client's short read timeout is for commands, and
                # the subscription is quiet until someone opens voice.
                message = await pubsub.get_message(timeout=RETRY_SECONDS)
                if message is not None:
                    await self._dispatch(message["channel"].decode(), json.loads(message["data"]))

    async def _dispatch(self, channel: str, message: dict[str, Any]) -> None:
        if channel == CHANNEL:
            await self._heard(message)
        elif channel == ANNOUNCE:
            await self._requested(message)
        else:
            self._answered(message)

    async def _heard(self, message: dict[str, Any]) -> None:
        if message["process"] == self._process:
            return
        user_id = uuid.UUID(message["user"])
        connection = self._connections.get(user_id)
        if connection is None:
            return
        mine, number = self._order.get(user_id, (None, 0))
        if mine is connection and number > message["number"]:
            return  # ours is the newer one: the other process closes its own
        del self._connections[user_id]
        self._order.pop(user_id, None)
        await close_replaced(connection)

    def _lost(self, exc: BaseException) -> None:
        if self._up:
            log.warning(
                "voice connections: Redis unreachable (%s); newest-wins holds in this "
                "process only until it is back",
                type(exc).__name__,
            )
        self._up = False
