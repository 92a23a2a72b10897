"""A hostile client against the real server on loopback: guessing tokens, holding
connections with half-sent headers or a silent voice socket, and flooding the voice
socket with audio faster than real time."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agent.app import create_app
from agent.guards import SignInThrottle
from agent.services import Services
from agent.talk import QUIET_AFTER
from speech.pace import MIN_TO_OPEN, SPEED
from speech.tts import PiperTTS
from tests.local_server import serve

HEADER_TIMEOUT = 0.5
BODY_TIMEOUT = 1.0
FRAME = np.zeros(320, dtype="<i2").tobytes()  # 20 ms of 16 kHz silence


@pytest.fixture
async def base_url(services: Services, voice_models: tuple) -> AsyncIterator[str]:
    services._voice = voice_models  # the run's models, not a second copy
    app = create_app(services=services)
    async with serve(app, header_timeout=HEADER_TIMEOUT, body_timeout=BODY_TIMEOUT) as url:
        yield url


def voice_url(base_url: str, token: str) -> str:
    return f"{base_url.replace('http', 'ws', 1)}/v1/voice?token={token}"


async def test_guessing_tokens_is_refused_after_the_limit(
    base_url: str, services: Services, auth: dict
) -> None:
    services.sign_ins = SignInThrottle("5/minute")
    async with httpx.AsyncClient(base_url=base_url) as client:
        bad = {"Authorization": "Bearer not.a.token"}
        answers = [await client.get("/v1/me", headers=bad) for _ in range(8)]
        assert [a.status_code for a in answers] == [401] * 5 + [429] * 3
        assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
        assert "too many failed sign-ins" in answers[-1].json()["detail"]
        # Locked out, whatever the token: otherwise the guessing would go on.
        assert (await client.get("/v1/me", headers=auth)).status_code == 429
        assert (await client.get("/healthz")).status_code == 200  # probes still answer
    with pytest.raises(InvalidStatus) as refused:
        async with connect(voice_url(base_url, auth["Authorization"].split()[1])):
            pass
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["retry-after"]


async def test_bad_voice_tokens_count_too_and_other_addresses_are_not_locked(
    base_url: str, services: Services, auth: dict
) -> None:
    services.sign_ins = SignInThrottle("3/minute")
    for _ in range(3):
        async with connect(voice_url(base_url, "nope")) as socket:
            with pytest.raises(ConnectionClosed):
                await socket.recv()
    async with httpx.AsyncClient(base_url=base_url) as client:
        assert (await client.get("/v1/me", headers=auth)).status_code == 429
    elsewhere = httpx.ASGITransport(app=create_app(services=services), client=("192.0.2.7", 50000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://lifeos.test") as client:
        assert (await client.get("/v1/me", headers=auth)).status_code == 200


async def test_a_forged_forwarded_address_does_not_escape_the_limit(
    base_url: str, services: Services
) -> None:
    services.sign_ins = SignInThrottle("3/minute")
    async with httpx.AsyncClient(base_url=base_url) as client:  # from 127.0.0.1, no proxy set
        answers = [
            await client.get(
                "/v1/me",
                headers={"Authorization": "Bearer nope", "X-Forwarded-For": f"203.0.113.{n}"},
            )
            for n in range(5)
        ]
    assert [a.status_code for a in answers] == [401] * 3 + [429] * 2


async def test_a_listed_proxy_names_the_client_and_no_one_else_does(
    services: Services,
) -> None:
    services.sign_ins = SignInThrottle("2/minute")
    services.settings = services.settings.model_copy(update={"forwarded_allow_ips": "10.0.0.1"})
    app = create_app(services=services)

    async def sign_in(via: str, claimed: str) -> int:
        transport = httpx.ASGITransport(app=app, client=(via, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://lifeos.test") as c:
            headers = {"Authorization": "Bearer nope", "X-Forwarded-For": claimed}
            return (await c.get("/v1/me", headers=headers)).status_code

    assert [await sign_in("10.0.0.1", "203.0.113.1") for _ in range(3)] == [401, 401, 429]
    assert await sign_in("10.0.0.1", "203.0.113.2") == 401  # another client behind the proxy
    # Not the proxy: its claim is ignored, its own address counts.
    assert [await sign_in("192.0.2.9", f"203.0.113.{n}") for n in range(3, 6)] == [401, 401, 429]


async def read_all(reader: asyncio.StreamReader, within: float) -> bytes:
    return await asyncio.wait_for(reader.read(), timeout=within)


async def test_half_sent_headers_are_cut_off(base_url: str) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: lifeos\r\n")
    started = time.perf_counter()
    answer = b""
    for i in range(50):  # a header line every 0.1 s, never the blank line that ends them
        try:
            answer = await asyncio.wait_for(reader.read(4096), timeout=0.1)
            break  # the server spoke: stop writing to a closed connection
        except TimeoutError:
            writer.write(b"X-Slow-%d: x\r\n" % i)
    answer += await read_all(reader, within=2)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.perf_counter() - started < HEADER_TIMEOUT + 1.5


def task_upload(auth: dict, length: int) -> bytes:
    return (
        b"POST /v1/tasks HTTP/1.1\r\nHost: lifeos\r\ncontent-type: application/json\r\n"
        b"authorization: %s\r\ncontent-length: %d\r\n\r\n"
        % (auth["Authorization"].encode(), length)
    )


async def test_a_body_sent_a_byte_at_a_time_is_cut_off(base_url: str, auth: dict) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(task_upload(auth, 10_000))  # complete headers, then a trickle of body
    started = time.perf_counter()
    answer = b""
    for _ in range(100):  # a byte every 0.1 s: 10,000 of them would take 17 minutes
        try:
            answer = await asyncio.wait_for(reader.read(4096), timeout=0.1)
            break
        except TimeoutError:
            writer.write(b" ")
    answer += await read_all(reader, within=2)  # then the server closes the connection
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"the request body took too long" in answer
    assert time.perf_counter() - started < BODY_TIMEOUT + 1.5


async def test_a_body_with_pauses_within_the_deadline_is_served(base_url: str, auth: dict) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = json.dumps({"title": "sent in two parts"}).encode()
    writer.write(task_upload(auth, len(body)) + body[:5])
    await asyncio.sleep(BODY_TIMEOUT / 2)
    writer.write(body[5:])
    status = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    assert status.startswith(b"HTTP/1.1 201 ")


async def test_a_connection_that_sends_nothing_is_closed(base_url: str) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    answer = await read_all(reader, within=HEADER_TIMEOUT + 2)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")


async def test_kept_alive_connections_and_slow_answers_are_left_alone(base_url: str) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    for _ in range(2):  # the pause between requests is longer than the header deadline
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: lifeos\r\n\r\n")
        status = await asyncio.wait_for(reader.readline(), timeout=5)
        assert status.startswith(b"HTTP/1.1 200 ")
        await asyncio.wait_for(reader.readuntil(b"}"), timeout=5)
        await asyncio.sleep(HEADER_TIMEOUT * 2)
    writer.close()


async def messages_until_closed(socket: ClientConnection) -> tuple[list[dict], ConnectionClosed]:
    events: list[dict] = []
    while True:
        try:
            message = await asyncio.wait_for(socket.recv(), timeout=10)
        except ConnectionClosed as closed:
            return events, closed
        if isinstance(message, str):
            events.append(json.loads(message))


async def test_a_silent_voice_socket_is_closed(
    base_url: str, services: Services, auth: dict
) -> None:
    services.settings.voice_idle_seconds = 1.0
    token = auth["Authorization"].split()[1]
    async with connect(voice_url(base_url, token)) as socket:
        assert json.loads(await socket.recv())["type"] == "ready"
        for _ in range(100):  # two seconds of a microphone in real time: kept open
            await socket.send(FRAME)
            await asyncio.sleep(0.02)
        started = time.perf_counter()  # then nothing
        events, closed = await messages_until_closed(socket)
    assert 0.9 <= time.perf_counter() - started < 3  # from the last frame, sent 20 ms earlier
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (4001, "no audio for 1 s")
    assert events[-1] == {"type": "error", "message": "no audio for 1 s"}
    await pipeline_ended(services)


async def pipeline_ended(services: Services) -> None:
    for _ in range(100):  # the server ends the pipeline once the socket is closed
        if not services.voice_connections:
            break
        await asyncio.sleep(0.05)
    assert services.voice_connections == {}


async def test_audio_much_faster_than_real_time_is_refused(
    base_url: str, services: Services, auth: dict
) -> None:
    token = auth["Authorization"].split()[1]
    async with connect(voice_url(base_url, token)) as socket:
        assert json.loads(await socket.recv())["type"] == "ready"
        with_flood = asyncio.create_task(flood(socket, seconds=600))
        events, closed = await messages_until_closed(socket)
        await with_flood
    assert closed.rcvd is not None
    reason = "audio arrives much faster than real time"
    assert (closed.rcvd.code, closed.rcvd.reason) == (1008, reason)
    assert {"type": "error", "message": reason} in events
    async with connect(voice_url(base_url, token)) as again:  # reconnecting gives no new burst
        events, closed = await messages_until_closed(again)
    assert not events  # not even "ready": no pipeline is built for it
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (1008, reason)
    await pipeline_ended(services)
    await asyncio.sleep(MIN_TO_OPEN / SPEED)  # the allowance refills at twice real time
    async with connect(voice_url(base_url, token)) as later:
        assert json.loads(await later.recv())["type"] == "ready"
        with_flood = asyncio.create_task(flood(later, seconds=10))
        _, closed = await messages_until_closed(later)
        await with_flood
    assert closed.rcvd is not None and closed.rcvd.code == 1008
    await pipeline_ended(services)


async def test_a_recorded_command_sent_at_once_is_still_answered(
    base_url: str, services: Services, auth: dict, piper: PiperTTS
) -> None:
    """How `lifeos talk` sends: the whole recording at once, within the burst."""
    command = piper.synthesize_now("Add milk to my shopping list.", steady=True).resampled(16000)
    pcm = bytes(4800) + command.pcm + bytes(int(16000 * 2 * QUIET_AFTER))
    async with connect(voice_url(base_url, auth["Authorization"].split()[1])) as socket:
        await socket.recv()
        for i in range(0, len(pcm), 640):
            await socket.send(pcm[i : i + 640])
        events = []
        while not events or events[-1]["type"] != "audio_end":
            message = await asyncio.wait_for(socket.recv(), timeout=30)
            if isinstance(message, str):
                events.append(json.loads(message))
    assert {"type": "reply", "text": "Added milk to your shopping list."} in events
    assert not [e for e in events if e["type"] == "error"]


async def flood(socket: ClientConnection, seconds: float) -> None:
    """Send ``seconds`` of audio as fast as the socket takes it."""
    try:
        for _ in range(int(seconds / 0.02)):
            await socket.send(FRAME)
    except ConnectionClosed:
        pass
