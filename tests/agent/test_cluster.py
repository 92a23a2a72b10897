"""Several service processes share the newest-voice-connection rule through Redis,
a reminder reaches the page on whichever process holds its socket, and they lose
nothing but the sharing when Redis goes away. Each "process" here is an app
with its own Services and its own VoiceCluster (nothing else is shared between real
processes either); tests/agent/test_several.py runs real ones."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from redis import asyncio as aioredis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent.app import create_app
from agent.cluster import ANNOUNCE, VoiceCluster
from agent.guards import RequestThrottle
from agent.reminders.channels import DeliveryResult, DueReminder, WebPageChannel
from agent.reminders.scheduler import Scheduler
from agent.services import Services, build_assistant
from eval.tcp_plug import Plug
from intents.rules import RuleParser
from speech.tts import PiperTTS
from store.limits import Counts
from store.models import Reminder, ReminderKind, User
from tests.agent.test_reminders import add_task, reminders
from tests.agent.test_voice import next_event, socket_url, spoken_turn
from tests.local_server import serve

REDIS_URL = "redis://127.0.0.1:6379/14"
pytestmark = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)


def another_process(services: Services, rules: RuleParser) -> Services:
    """A second service on the same database, as another worker would build it."""
    other = Services(
        settings=services.settings,
        engine=services.engine,
        sessions=services.sessions,
        tokens=services.tokens,
        keys=services.keys,
        files=services.files,
    )
    other.assistant = build_assistant(other, rules)
    return other


async def shared(services: Services, redis_url: str) -> None:
    services.cluster = VoiceCluster(redis_url, services.voice_connections)
    services.counts = Counts(redis_url)
    services.requests = RequestThrottle(counts=services.counts)
    await services.cluster.start()

    async def subscribed() -> bool:
        return services.cluster.where == "redis"

    await until(subscribed)


async def until(condition: Callable[[], Awaitable[bool]], tries: int = 300) -> None:
    """Poll (every 50 ms) what another task or process brings about."""
    for _ in range(tries):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{condition.__name__}: still false after {tries} tries")


@pytest.fixture
async def two(
    services: Services, rules: RuleParser, voice_models: tuple
) -> AsyncIterator[tuple[str, str]]:
    other = another_process(services, rules)
    for each in (services, other):
        each._voice = voice_models
        await shared(each, REDIS_URL)
    async with serve(create_app(services=services)) as a, serve(create_app(services=other)) as b:
        yield a, b
    for each in (services, other):
        await each.cluster.stop()


async def test_newest_connection_on_another_process_closes_the_older(
    two: tuple[str, str], auth: dict
) -> None:
    a, b = two
    async with connect(socket_url(a, auth)) as first:
        assert json.loads(await first.recv())["type"] == "ready"
        async with connect(socket_url(b, auth)) as second:
            assert json.loads(await second.recv())["type"] == "ready"
            notice = json.loads(await asyncio.wait_for(first.recv(), timeout=10))
            assert notice == {
                "type": "notice",
                "message": "Voice was opened in another window; this one is closed.",
            }
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(first.recv(), timeout=10)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4000, "opened elsewhere")
            # The newer one stays open: the older one's process does not close it.
            await second.ping()


async def test_a_reminder_reaches_the_page_on_the_process_that_holds_its_socket(
    two: tuple[str, str], services: Services, auth: dict, piper: PiperTTS
) -> None:
    """Only A's scheduler runs and the page is open on B: the reminder is shown and
    spoken on B's socket, and "done" said there completes the task."""
    a, b = two
    services.scheduler = Scheduler(services.sessions, services.channels, interval=0.1)
    services.scheduler.start()
    done = piper.synthesize_now("Done.", steady=True).resampled(16000).pcm
    try:
        async with connect(socket_url(b, auth)) as page, httpx.AsyncClient(base_url=a) as on_a:
            assert json.loads(await page.recv())["type"] == "ready"
            task = await add_task(on_a, auth, "call mom", datetime.now(UTC) + timedelta(seconds=1))
            audio = bytearray()
            shown = await next_event(page, "reminder", audio)
            spoken = await next_event(page, "reply", audio)
            await next_event(page, "audio_end", audio)
            assert shown["text"] == spoken["text"] == "Reminder: call mom."
            assert len(audio) / 2 / 16000 > 0.5  # said out loud, not only shown
            _heard, answer = await spoken_turn(page, done)
            assert answer == "Marked call mom as done."  # the reminder's task, by its context
            stored = (await on_a.get(f"/v1/tasks/{task['id']}", headers=auth)).json()
            assert stored["status"] == "done"
            [reminder] = await reminders(on_a, auth)
    finally:
        await services.scheduler.stop()
    attempts = [(each["channel"], each["result"]) for each in reminder["attempts"]]
    assert attempts == [("web", "delivered")]  # not on to a text or call


def a_reminder_for(user: User) -> DueReminder:
    row = Reminder(
        user_id=user.id,
        kind=ReminderKind.TASK,
        source_id=uuid.uuid4(),
        title="call mom",
        fire_at=datetime.now(UTC),
    )
    return DueReminder(row, "Reminder: call mom.", datetime.now(UTC))


async def delivered_within(services: Services, user: User, seconds: float) -> DeliveryResult:
    started = time.monotonic()
    result = await WebPageChannel(lambda: services.cluster).deliver(a_reminder_for(user), user)
    assert time.monotonic() - started < seconds, result
    return result


@pytest.fixture
async def redis_plug(services: Services) -> AsyncIterator[Plug]:
    """Redis reached through a plug, by the rate limits and the voice rule."""
    async with Plug("127.0.0.1", 6379).running() as plug:
        await shared(services, f"redis://127.0.0.1:{plug.port}/14")
        yield plug
        await services.cluster.stop()


async def health(client: httpx.AsyncClient) -> dict:
    response = await client.get("/healthz")
    assert response.status_code == 200  # Redis is never a reason to stop serving
    return response.json()


async def test_without_redis_the_service_works_alone_and_says_so(
    client: httpx.AsyncClient, auth: dict, redis_plug: Plug, services: Services
) -> None:
    together = {"rate_limits": "redis", "voice_connections": "redis"}
    assert (await health(client)).items() >= together.items()

    redis_plug.cut()
    assert (await client.get("/v1/tasks", headers=auth)).status_code == 200
    alone = {
        "rate_limits": "memory (redis unreachable)",
        "voice_connections": "this process (redis unreachable)",
    }

    async def degraded() -> bool:  # the subscription notices the reset on its next read
        assert (await client.get("/v1/tasks", headers=auth)).status_code == 200
        return (await health(client)).items() >= alone.items()

    await until(degraded)

    redis_plug.restore()

    async def shared_again() -> bool:  # both try Redis again after a pause
        await client.get("/v1/tasks", headers=auth)  # a limit check is what retries
        return (await health(client)).items() >= together.items()

    await until(shared_again)


async def test_with_redis_unreachable_the_page_channel_answers_at_once(
    redis_plug: Plug, services: Services, user: User
) -> None:
    redis_plug.cut()  # this process may not have noticed yet: asking fails fast
    cut = await delivered_within(services, user, 1.0)
    assert cut.result == "unreachable" and cut.detail.startswith("no open page"), cut

    async def noticed() -> bool:
        return services.cluster.where == "this process (redis unreachable)"

    await until(noticed)
    alone = await delivered_within(services, user, 0.1)  # Redis is not even asked
    assert alone == DeliveryResult.unreachable("no open page")


async def test_a_process_that_does_not_answer_costs_two_seconds_at_most(
    services: Services, user: User
) -> None:
    """A process that hears the question and never answers (hung, or dying)."""
    await shared(services, REDIS_URL)
    hung = aioredis.from_url(REDIS_URL)
    try:
        async with hung.pubsub() as silent:
            await silent.subscribe(ANNOUNCE)
            result = await delivered_within(services, user, 3.0)
    finally:
        await hung.aclose()
        await services.cluster.stop()
    assert result == DeliveryResult.unreachable("no process answered in time")
