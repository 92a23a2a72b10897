"""The service's Prometheus metrics: one registry per running service, each metric
defined once here. Names are what docs/grafana-dashboard.json and docs/alerts.yml
query (tests/agent/test_observe.py checks that every name they use is exported).

With `lifeos serve --workers N` (agent/workers.py sets PROMETHEUS_MULTIPROC_DIR
before the workers start) every worker writes its counts to files in that folder and
a scrape of any worker adds up all of them. Separate `lifeos serve` processes (one
per machine) each export their own; Prometheus adds those up per instance.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from agent import preload

if TYPE_CHECKING:  # speech.frames imports pipecat: loaded with the first voice connection
    from speech.frames import TurnRecord

# Seconds; dense around the budgets the alerts watch (API 200 ms, voice 500 ms).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)
VOICE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
DELAY_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
# The turn's record in milliseconds → the stage label. "first_audio" is the user's
# wait: from their last word to the first reply audio written to them.
VOICE_STAGES = ("endpoint_wait", "stt", "intent", "action", "tts_first_chunk", "audio_ready")
LATE_SECONDS = 60.0  # a reminder delivered more than this after its time is late
ModelLoads = Callable[[], Mapping[str, float]]


class Metrics:
    def __init__(self, model_loads: ModelLoads = lambda: preload.load_seconds) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.http = Histogram(
            "lifeos_http_request_duration_seconds",
            "HTTP requests by route template, method and status, from first byte in to last out.",
            ("route", "method", "status"),
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        self.turns = Counter(
            "lifeos_voice_turns", "Voice turns answered, by channel.", ("channel",), registry=r
        )
        self.stages = Histogram(
            "lifeos_voice_stage_seconds",
            "Time per stage of a voice turn, by channel; first_audio is end of speech to "
            "the first reply audio sent.",
            ("channel", "stage"),
            buckets=VOICE_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "lifeos_errors", "Errors by kind (http_5xx, or the logger of an error line).",
            ("kind",), registry=r,
        )  # fmt: skip
        self.delivered = Counter(
            "lifeos_reminders_delivered",
            "Reminders delivered, by the channel that reached the user.",
            ("channel",),
            registry=r,
        )
        self.late = Counter(
            "lifeos_reminders_late",
            f"Reminders delivered more than {LATE_SECONDS:g} s after their time.",
            ("channel",),
            registry=r,
        )
        self.delay = Histogram(
            "lifeos_reminder_delay_seconds",
            "From a reminder's time to its delivery.",
            ("channel",),
            buckets=DELAY_BUCKETS,
            registry=r,
        )
        self.undelivered = Counter(
            "lifeos_reminders_undelivered",
            "Reminders settled without reaching the user: unreached, missed or dropped.",
            ("status",),
            registry=r,
        )
        self.webhook_lag = Gauge(
            "lifeos_webhook_queue_lag_seconds",
            "Age of the oldest webhook delivery not yet delivered (0: none waiting), as of "
            "the sender's last round.",
            registry=r,
            # Every worker's sender reads the same outbox: across processes, the
            # largest lag a live one saw.
            multiprocess_mode="livemax",
        )
        self._model_loads = _ModelLoads(model_loads)
        r.register(self._model_loads)

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.http.labels(route, method, str(status)).observe(seconds)
        if status >= 500:
            self.errors.labels("http_5xx").inc()

    def voice_turn(self, channel: str, record: TurnRecord) -> None:
        self.turns.labels(channel).inc()
        for stage, ms in stage_times(record).items():
            self.stages.labels(channel, stage).observe(ms / 1000)

    def reminder_delivered(self, channel: str, delay_seconds: float) -> None:
        self.delivered.labels(channel).inc()
        self.delay.labels(channel).observe(max(delay_seconds, 0.0))
        if delay_seconds > LATE_SECONDS:
            self.late.labels(channel).inc()

    def reminder_undelivered(self, status: str) -> None:
        self.undelivered.labels(status).inc()

    def webhook_queue_lag(self, seconds: float) -> None:
        self.webhook_lag.set(seconds)

    def error(self, kind: str) -> None:
        self.errors.labels(kind).inc()

    def exposition(self) -> bytes:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry)
        # Every worker's counters and histograms from their files; the model load
        # times, memory and CPU are this worker's own.
        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        ProcessCollector(registry=merged)
        PlatformCollector(registry=merged)
        merged.register(self._model_loads)
        return generate_latest(merged)


def stage_times(record: TurnRecord) -> dict[str, float]:
    """The turn's stages in milliseconds, as its `timings` event reports them, plus
    first_audio once the reply's first audio was sent."""
    timings = record.timings()
    stages = {stage: timings[stage] for stage in VOICE_STAGES if stage in timings}
    if record.audio_sent is not None:
        stages["first_audio"] = (record.audio_sent - record.last_speech) * 1000
    return stages


class _ModelLoads(Collector):
    """How long each model took to load, read when scraped: models load on a thread
    that may finish after the registry is made."""

    def __init__(self, loads: ModelLoads) -> None:
        self._loads = loads

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "lifeos_model_load_seconds", "Seconds each model took to load.", labels=("model",)
        )
        for model, seconds in self._loads().items():
            family.add_metric((model,), seconds)
        yield family
