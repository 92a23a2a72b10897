"""Watching the service: /metrics after REST requests, a voice turn and a reminder;
its access rule; JSON log lines with request ids and without user data; traces
sent to an OTLP/HTTP receiver; the dashboard and alert rules name only exported
metrics."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml
from websockets.asyncio.client import connect

from agent import server
from agent.app import create_app
from agent.observe.log_setup import log_config
from agent.services import Services
from agent.settings import Settings
from speech.tts import PiperTTS
from store.models import User
from tests.agent.otlp_receiver import Receiver
from tests.agent.test_voice import FRAME, silence
from tests.local_server import serve

DOCS = Path(__file__).parents[2] / "docs"
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample, 0 when it is not there."""
    for line in exposition.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, value = line.rsplit(" ", 1)
        found = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if head.split("{")[0] == name and found == labels:
            return float(value)
    return 0.0


async def scrape(client: httpx.AsyncClient, **headers: str) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_timed_by_route_template_and_carry_an_id(
    client: httpx.AsyncClient, auth: dict
) -> None:
    missing = uuid.uuid4()
    answer = await client.get(f"/v1/tasks/{missing}", headers=auth)
    assert answer.status_code == 404
    assert re.fullmatch(r"[0-9a-f]{16}", answer.headers["x-request-id"])
    mine = await client.get("/v1/tasks", headers={**auth, "X-Request-ID": "trace-me-123"})
    assert mine.headers["x-request-id"] == "trace-me-123"  # a client's own id is kept
    await client.get("/no/such/page")
    text = await scrape(client)
    one = {"route": "/v1/tasks/{task_id}", "method": "GET", "status": "404"}
    assert sample(text, "lifeos_http_request_duration_seconds_count", **one) == 1
    assert sample(text, "lifeos_http_request_duration_seconds_bucket", **one, le="+Inf") == 1
    listed = {"route": "/v1/tasks", "method": "GET", "status": "200"}
    assert sample(text, "lifeos_http_request_duration_seconds_count", **listed) == 1
    unmatched = {"route": "(unmatched)", "method": "GET", "status": "404"}
    assert sample(text, "lifeos_http_request_duration_seconds_count", **unmatched) == 1
    assert str(missing) not in text and "/no/such" not in text  # no raw paths as labels


async def test_metrics_are_for_this_machine_or_the_metrics_token(services: Services) -> None:
    def client_from(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=create_app(services=services), client=(address, 5))
        return httpx.AsyncClient(transport=transport, base_url="http://lifeos.test")

    async with client_from("203.0.113.9") as outside:
        refused = await outside.get("/metrics")
        assert refused.status_code == 403 and "LIFEOS_METRICS_TOKEN" in refused.json()["detail"]
    async with client_from("::1") as local:
        assert (await local.get("/metrics")).status_code == 200
    token = secrets.token_urlsafe(32)
    services.settings = Settings(data_dir=services.settings.data_dir, metrics_token=token)
    async with client_from("203.0.113.9") as outside:
        assert (await outside.get("/metrics")).status_code == 401
        wrong = await outside.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        await scrape(outside, Authorization=f"Bearer {token}")
    with pytest.raises(ValueError, match="LIFEOS_METRICS_TOKEN is 8 characters long"):
        Settings(data_dir=services.settings.data_dir, metrics_token="password")


@pytest.fixture
async def receiver(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Receiver]:
    got = Receiver()
    async with serve(got.app()) as url:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)  # the exporter adds /v1/traces
        yield got


async def test_a_voice_turn_and_a_reminder_in_metrics_and_traces(
    services: Services,
    voice_models: tuple,
    auth: dict,
    user: User,
    piper: PiperTTS,
    receiver: Receiver,
) -> None:
    from agent.observe.tracing import Tracing

    services._voice = voice_models
    services.tracing = Tracing()  # from the standard variable, as `lifeos serve` does
    try:
        async with serve(create_app(services=services)) as url:
            await _talk_and_be_reminded(url, services, auth, piper)
            async with httpx.AsyncClient(base_url=url) as client:
                text = await scrape(client)
    finally:
        await asyncio.to_thread(services.tracing.shutdown)
        if services.scheduler is not None:
            await services.scheduler.stop()

    assert sample(text, "lifeos_voice_turns_total", channel="web") == 1  # not the reminder
    stages = ("endpoint_wait", "stt", "intent", "action", "tts_first_chunk", "first_audio")
    for stage in stages:
        count = sample(text, "lifeos_voice_stage_seconds_count", channel="web", stage=stage)
        assert count == 1, stage
    first = sample(text, "lifeos_voice_stage_seconds_sum", channel="web", stage="first_audio")
    assert 0 < first < 10
    assert sample(text, "lifeos_reminders_delivered_total", channel="web") == 1
    assert sample(text, "lifeos_reminders_late_total", channel="web") == 1  # 90 s after its time
    assert sample(text, "lifeos_reminder_delay_seconds_count", channel="web") == 1

    by_name = {span.name: span for span in receiver.spans}
    turn = by_name["voice turn"]
    assert turn.attributes["lifeos.channel"] == "web" and turn.end_ns > turn.start_ns
    children = {span.name for span in receiver.spans if span.parent_span_id == turn.span_id}
    assert set(stages[:-1]) <= children
    request = by_name["POST /v1/tasks"]
    assert request.attributes["http.route"] == "/v1/tasks"
    assert request.attributes["http.response.status_code"] == 201


async def _talk_and_be_reminded(url: str, services: Services, auth: dict, piper: PiperTTS) -> None:
    token = auth["Authorization"].split()[1]
    command = piper.synthesize_now("Add milk to my shopping list.", steady=True).resampled(16000)
    pcm = silence(0.3) + command.pcm + silence(1.0)
    async with connect(url.replace("http://", "ws://") + f"/v1/voice?token={token}") as socket:
        assert json.loads(await socket.recv())["type"] == "ready"
        for i in range(0, len(pcm), FRAME):
            await socket.send(pcm[i : i + FRAME])
        await _until(socket, "audio_end")
        # A reminder 90 s overdue, delivered over this open page by the service's scheduler.
        due = datetime.now(UTC) - timedelta(seconds=90)
        body = {"title": "call the bank", "remind_at": due.isoformat()}
        async with httpx.AsyncClient(base_url=url, headers=auth) as client:
            (await client.post("/v1/tasks", json=body)).raise_for_status()
        services.start_scheduler()
        await _until(socket, "reminder")
        await _until(socket, "audio_end")


async def _until(socket: object, kind: str) -> None:
    while True:
        message = await asyncio.wait_for(socket.recv(), timeout=30)  # type: ignore[attr-defined]
        if isinstance(message, str) and json.loads(message).get("type") == kind:
            return


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The JSON set-up is process-wide: put the loggers back as they were."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level) for n in names}
    yield
    for name, (handlers, level) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).setLevel(level)


async def test_json_log_lines_carry_ids_and_no_user_data(
    services: Services, auth: dict, user: User, restore_logging: None
) -> None:
    config = log_config("json", "INFO")
    out = io.StringIO()
    for handler in config["handlers"].values():
        handler["stream"] = out
    app = create_app(services=services)
    http = server.config(app, host="127.0.0.1", port=0, log_config=config, log_level="info")
    running = uvicorn.Server(http)
    serving = asyncio.create_task(running.serve())
    title, amount, password = "divorce lawyer appointment", "4713.29", secrets.token_urlsafe(16)
    token = auth["Authorization"].split()[1]
    try:
        for _ in range(500):  # uvicorn offers a flag, not an event, for "listening"
            if running.started:
                break
            await asyncio.sleep(0.01)
        port = running.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=auth) as client:
            made = await client.post("/v1/tasks", json={"title": title})
            assert made.status_code == 201
            said = f"I spent ${amount} on groceries"
            talk = {"text": said, "session_id": "kitchen-1"}
            assert (await client.post("/v1/converse", json=talk)).status_code == 200
            await client.get("/v1/tasks", params={"search": title, "token": token})
            # A server that is not there: the password is only carried, never logged.
            caldav = {"url": "http://127.0.0.1:1/", "username": "ann", "password": password}
            assert (await client.put("/v1/calendar/caldav", json=caldav)).status_code == 502
            await client.get("/v1/tasks", headers={"Authorization": f"Bearer {token}x"})
            # An error line anywhere in the running service counts as its logger's kind.
            logging.getLogger("agent.reminders.scheduler").error("the round failed")
            errors = await scrape(client)
    finally:
        running.should_exit = True
        await serving

    assert sample(errors, "lifeos_errors_total", kind="agent.reminders") == 1
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert len(access) >= 5
    assert all(re.fullmatch(r"[0-9a-f]{16}", line["request_id"]) for line in access)
    assert len({line["request_id"] for line in access}) == len(access)
    signed_in = [line for line in access if "POST /v1/tasks" in line["message"]]
    assert signed_in[0]["user_id"] == str(user.id) and signed_in[0]["level"] == "INFO"
    conversed = next(line for line in access if "/v1/converse" in line["message"])
    assert conversed["session_id"] == "kitchen-1"
    written = out.getvalue()
    for secret in (title, "divorce", amount, password, token):
        assert secret not in written


async def test_the_dashboard_and_alerts_name_only_exported_metrics(
    client: httpx.AsyncClient,
) -> None:
    exported = set(re.findall(r"^# TYPE (\S+)", await scrape(client), re.M))
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    rules = yaml.safe_load((DOCS / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    queries += [rule["expr"] for rule in alerts]
    named = {name for query in queries for name in re.findall(r"\blifeos_\w+", query)}
    assert len(named) >= 6 and len(alerts) >= 3
    for name in sorted(named):
        family = next((name.removesuffix(s) for s in SUFFIXES if name.endswith(s)), name)
        assert name in exported or family in exported, f"{name} is not exported by /metrics"
