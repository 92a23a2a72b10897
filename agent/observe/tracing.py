"""OpenTelemetry traces, exported over OTLP/HTTP: a span per HTTP request and one
per voice turn with a child per stage. Only built when the standard
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, so
the SDK is not even imported otherwise (agent/services.py). The exporter reads the
other standard variables itself (headers, timeout, compression); spans leave in
batches from the SDK's own thread, never from the event loop.

Turn spans are made after the turn, from the times its record holds (one
measurement: the stages wrote them), converted from the monotonic clock to the
wall clock.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, set_span_in_context

if TYPE_CHECKING:  # imports pipecat, which loads with the first voice connection
    from speech.frames import TurnRecord


class Tracing:
    def __init__(self, exporter: SpanExporter | None = None) -> None:
        service = os.environ.get("OTEL_SERVICE_NAME", "lifeos")
        self.provider = TracerProvider(resource=Resource.create({"service.name": service}))
        self.provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter()))
        self.tracer: Tracer = self.provider.get_tracer("lifeos")

    def request_span(self, method: str, request_id: str) -> Span:
        """Named by method until the route is known (`end_request_span`)."""
        return self.tracer.start_span(
            method,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "lifeos.request_id": request_id},
        )

    def end_request_span(self, span: Span, method: str, route: str, status: int) -> None:
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def voice_turn(self, channel: str, record: TurnRecord) -> None:
        """The turn as a span from the user's last word to the first reply audio
        sent, with its stages as children, placed on the wall clock."""
        to_wall = time.time_ns() - time.perf_counter_ns()

        def at(moment: float) -> int:
            return to_wall + int(moment * 1e9)

        end = record.audio_sent or record.audio_made or record.ended
        turn = self.tracer.start_span(
            "voice turn",
            kind=SpanKind.SERVER,
            start_time=at(record.last_speech),
            attributes={
                "lifeos.channel": channel,
                "lifeos.turn_id": record.turn_id,
                "lifeos.ended_by": record.ended_by,
            },
        )
        parent = set_span_in_context(turn)
        for stage, start, finish in stage_intervals(record):
            self.tracer.start_span(stage, parent, start_time=at(start)).end(end_time=at(finish))
        turn.end(end_time=at(max(end, record.last_speech)))

    def shutdown(self) -> None:
        """Send what is still batched (blocking: call from a thread)."""
        self.provider.shutdown()


def stage_intervals(record: TurnRecord) -> list[tuple[str, float, float]]:
    """Each recorded stage as (name, start, end) on the record's clock: waiting for
    the end of speech, speech-to-text (ending when its result was taken), intent and
    action (one after the other, after the transcript), speech synthesis up to the
    first audio, and writing that audio to the client."""
    ms = record.stages
    spans = [("endpoint_wait", record.last_speech, record.ended)]
    heard = record.ended + ms.get("stt_wait", 0.0) / 1000
    if "stt" in ms:
        spans.append(("stt", heard - ms["stt"] / 1000, heard))
    cursor = heard
    for stage in ("intent", "action"):
        if stage in ms:
            spans.append((stage, cursor, cursor + ms[stage] / 1000))
            cursor += ms[stage] / 1000
    if record.audio_made is not None:
        made = record.audio_made
        spans.append(("tts_first_chunk", made - ms.get("tts_first_chunk", 0.0) / 1000, made))
        if record.audio_sent is not None:
            spans.append(("send_first_audio", made, record.audio_sent))
    return spans
