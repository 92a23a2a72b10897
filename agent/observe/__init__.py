"""Watching the service: Prometheus metrics, structured logs with request, session,
turn and user ids, and OpenTelemetry traces when an OTLP endpoint is configured."""

import os

# The standard OpenTelemetry variables; either turns tracing on.
OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_configured() -> bool:
    """Is an OTLP endpoint configured? Checked before the OpenTelemetry SDK is
    imported (agent.observe.tracing), which costs start-up time for nothing otherwise."""
    return any(os.environ.get(name) for name in OTLP_ENDPOINT_VARIABLES)
