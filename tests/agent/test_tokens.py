"""Tokens that can be revoked before they expire (signing out, a lost device);
requests limited per token and per address, counted in Redis when it is configured;
request bodies and voice messages capped."""

from __future__ import annotations

import uuid

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent.app import create_app
from agent.guards import RequestRates, RequestThrottle
from agent.services import Services
from store.limits import Counts
from tests.local_server import serve

REDIS_URL = "redis://127.0.0.1:6379/15"


async def new_device_token(client: httpx.AsyncClient, auth: dict, label: str) -> dict:
    made = await client.post("/v1/auth/tokens", headers=auth, json={"label": label, "days": 30})
    assert made.status_code == 201, made.text
    return made.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_device_token_is_listed_and_stops_working_once_revoked(
    client: httpx.AsyncClient, auth: dict, intruder: dict
) -> None:
    speaker = await new_device_token(client, auth, "kitchen speaker")
    assert (await client.get("/v1/me", headers=bearer(speaker["token"]))).status_code == 200
    listed = (await client.get("/v1/auth/tokens", headers=bearer(speaker["token"]))).json()
    assert [(t["label"], t["current"]) for t in listed] == [("kitchen speaker", True)]
    assert "token" not in listed[0]  # shown once, when made

    # Another user cannot revoke it, nor learn that it exists.
    other = await client.delete(f"/v1/auth/tokens/{speaker['id']}", headers=intruder)
    assert other.status_code == 404
    assert (await client.get("/v1/me", headers=bearer(speaker["token"]))).status_code == 200

    assert (
        await client.delete(f"/v1/auth/tokens/{speaker['id']}", headers=auth)
    ).status_code == 204
    refused = await client.get("/v1/me", headers=bearer(speaker["token"]))
    assert refused.status_code == 401 and refused.json()["detail"] == "token has been revoked"
    assert (await client.get("/v1/me", headers=auth)).status_code == 200  # the others still count
    assert (await client.get("/v1/auth/tokens", headers=auth)).json() == []


async def test_signing_out_revokes_this_token_or_every_one(
    client: httpx.AsyncClient, auth: dict
) -> None:
    phone = bearer((await new_device_token(client, auth, "phone"))["token"])
    laptop = bearer((await new_device_token(client, auth, "laptop"))["token"])
    out = await client.post("/v1/auth/signout", headers=laptop)
    assert out.json() == {"revoked": 1}
    assert (await client.get("/v1/tasks", headers=laptop)).status_code == 401
    assert (await client.get("/v1/tasks", headers=phone)).status_code == 200

    speaker = bearer((await new_device_token(client, auth, "speaker"))["token"])
    everywhere = await client.post("/v1/auth/signout?everywhere=true", headers=phone)
    assert everywhere.json() == {"revoked": 2}  # the phone and the speaker
    for headers in (phone, speaker):
        assert (await client.get("/v1/tasks", headers=headers)).status_code == 401
    # A token never put on record (as the fixture's) stops working on signing out too.
    assert (await client.post("/v1/auth/signout", headers=auth)).json() == {"revoked": 1}
    assert (await client.get("/v1/tasks", headers=auth)).status_code == 401


async def test_a_revoked_token_cannot_open_the_voice_socket(
    services: Services, client: httpx.AsyncClient, auth: dict
) -> None:
    speaker = await new_device_token(client, auth, "speaker")
    assert (
        await client.delete(f"/v1/auth/tokens/{speaker['id']}", headers=auth)
    ).status_code == 204
    async with serve(create_app(services=services)) as url:
        voice = f"{url.replace('http', 'ws', 1)}/v1/voice?token={speaker['token']}"
        async with connect(voice) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "token has been revoked")


async def test_requests_over_a_tokens_limit_wait_and_other_tokens_do_not(
    services: Services, client: httpx.AsyncClient, auth: dict, intruder: dict
) -> None:
    services.requests = RequestThrottle(RequestRates.parse("3/minute", "100/minute", "2/minute"))
    answers = [(await client.get("/v1/tasks", headers=auth)).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    limited = await client.get("/v1/tasks", headers=auth)
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["detail"].startswith("too many requests")
    assert (await client.get("/v1/tasks", headers=intruder)).status_code == 200
    assert (await client.get("/healthz")).status_code == 200  # probes are never limited


async def test_guessing_paths_have_a_stricter_limit_per_address(
    services: Services, client: httpx.AsyncClient, auth: dict, intruder: dict
) -> None:
    services.requests = RequestThrottle(RequestRates.parse("100/minute", "100/minute", "2/minute"))
    pins = [
        (await client.put("/v1/me/phone-pin", headers=auth, json={"pin": "1234"})).status_code
        for _ in range(3)
    ]
    assert pins[-1] == 429
    # The same address, another token: still a guess from the same place.
    other = await client.put("/v1/me/phone-pin", headers=intruder, json={"pin": "1234"})
    assert other.status_code == 429
    assert (await client.get("/v1/tasks", headers=auth)).status_code == 200


async def test_two_processes_share_their_counts_through_redis(
    services: Services, auth: dict
) -> None:
    rates = RequestRates.parse("4/minute", "100/minute", "100/minute")
    key = f"{uuid.uuid4()}"  # the token key is its hash: a fresh one per run
    token = auth["Authorization"].split()[1] + key
    first = RequestThrottle(rates, Counts(REDIS_URL))
    second = RequestThrottle(rates, Counts(REDIS_URL))
    assert first._limiter._counts.where == "redis"
    waits = [
        await (first if n % 2 else second).wait("10.0.0.9", token, "/v1/tasks") for n in range(6)
    ]
    assert waits[:4] == [None] * 4 and all(w is not None for w in waits[4:])


async def test_without_redis_the_limits_hold_in_memory_and_health_says_so(
    services: Services, client: httpx.AsyncClient, auth: dict
) -> None:
    counts = Counts("redis://127.0.0.1:1/0")  # nothing listens there
    services.counts = counts
    services.requests = RequestThrottle(
        RequestRates.parse("2/minute", "100/minute", "9/minute"), counts
    )
    answers = [(await client.get("/v1/tasks", headers=auth)).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    health = (await client.get("/healthz")).json()
    assert health["status"] == "ok" and health["rate_limits"] == "memory (redis unreachable)"


async def test_a_body_over_the_limit_is_refused_before_it_is_read(
    services: Services, auth: dict
) -> None:
    services.settings = services.settings.model_copy(update={"max_body_bytes": 64 * 1024})
    app = create_app(services=services)
    statement = b"date,description,amount\n" + b"2026-11-02,COFFEE,-4.50\n" * 4000  # ~100 kB
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://lifeos.test"
    ) as client:
        declared = await client.post(
            "/v1/imports", headers=auth, files={"file": ("big.csv", statement)}
        )
        assert declared.status_code == 413
        assert declared.json()["detail"] == "the request body is larger than 64 KB"

        text = b'{"text": "' + b"add milk " * 10_000 + b'"}'  # ~90 kB of JSON

        async def chunks():  # no Content-Length: counted as it arrives
            for start in range(0, len(text), 8192):
                yield text[start : start + 8192]

        streamed = await client.post(
            "/v1/converse",
            headers={**auth, "Content-Type": "application/json"},
            content=chunks(),
        )
        assert streamed.status_code == 413
        assert (await client.get("/v1/tasks", headers=auth)).json() == []
        assert (await client.get("/v1/transactions", headers=auth)).json() == []


async def test_a_voice_message_over_the_frame_cap_closes_the_socket(
    services: Services, auth: dict, voice_models: tuple
) -> None:
    services._voice = voice_models
    token = auth["Authorization"].split()[1]
    async with (
        serve(create_app(services=services)) as url,
        connect(f"{url.replace('http', 'ws', 1)}/v1/voice?token={token}") as socket,
    ):
        assert '"ready"' in str(await socket.recv())
        await socket.send(bytes(300 * 1024))
        with pytest.raises(ConnectionClosed) as closed:
            await _until_closed(socket)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def _until_closed(socket) -> None:
    while True:
        await socket.recv()
