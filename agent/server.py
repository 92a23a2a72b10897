"""The HTTP server: uvicorn, with deadlines for a request's headers and its body.

uvicorn times out an idle keep-alive connection, but not a connection that sends
nothing, sends its headers a byte at a time (slowloris) or its body a byte at a time
(slow POST): each such connection holds a socket, a parser and, for a body, a request
handler waiting on it, forever. h11's and httptools' size limits do not help against
slow bytes. This subclass of uvicorn's httptools protocol starts a clock when a
connection opens and when each request's first byte arrives, and stops it when the
request's headers are complete; then a second clock runs until the body is complete.
When either runs out the client gets 408 (unless an answer has already begun) and the
connection is closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0  # seconds from the first byte (or the connection) to the last header
# Seconds from the last header to the body's last byte: the largest upload accepted
# (a few megabytes) needs well under this even on a slow home uplink.
BODY_TIMEOUT = 60.0
log = logging.getLogger(__name__)


def _timed_out(reason: bytes) -> bytes:
    return (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(reason), reason)
    )


_HEADERS_TIMED_OUT = _timed_out(b"the request headers took too long\n")
_BODY_TIMED_OUT = _timed_out(b"the request body took too long\n")


class RequestDeadlineProtocol(HttpToolsProtocol):
    header_timeout = HEADER_TIMEOUT
    body_timeout = BODY_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_clock(self.header_timeout, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_clock(
            self.header_timeout, "headers"
        )  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._stop_clock()
        super().on_headers_complete()
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            # A request without a body completes at once, which stops this clock.
            self._start_clock(self.body_timeout, "body")

    def on_message_complete(self) -> None:
        self._stop_clock()
        super().on_message_complete()

    def _start_clock(self, seconds: float, part: str) -> None:
        if self._clock is None:
            self._clock = self.loop.call_later(seconds, self._out_of_time, seconds, part)

    def _stop_clock(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            self._clock = None

    def _out_of_time(self, seconds: float, part: str) -> None:
        self._clock = None
        if self.transport.is_closing():
            return
        host, port = self.client or ("?", 0)
        log.info("closed %s:%d: request %s not complete in %g s", host, port, part, seconds)
        answering = part == "body" and self.cycle is not None and self.cycle.response_started
        if not answering:  # a 408 in the middle of an answer would corrupt it
            self.transport.write(_HEADERS_TIMED_OUT if part == "headers" else _BODY_TIMED_OUT)
        self.transport.close()


# The largest WebSocket message taken: a voice frame is at most 2 s of audio (2 s of
# 48 kHz 16-bit PCM is 192,000 bytes) and a Twilio media message far less; uvicorn's own
# default (16 MiB) would let one message hold 16 MiB of memory per socket. A larger one
# closes the socket with 1009 (message too big).
WS_MAX_BYTES = 256 * 1024


def protocol(
    header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT
) -> type[RequestDeadlineProtocol]:
    """The protocol class with its deadlines, for uvicorn's ``http=``."""
    return type(
        "RequestDeadlineProtocol",
        (RequestDeadlineProtocol,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )


def config(
    app: Any,
    *,
    header_timeout: float = HEADER_TIMEOUT,
    body_timeout: float = BODY_TIMEOUT,
    **options: Any,
) -> uvicorn.Config:
    # Forwarded headers are the app's business (agent.app, from LIFEOS_FORWARDED_ALLOW_IPS
    # only): uvicorn's own default trusts them from 127.0.0.1.
    options.setdefault("ws_max_size", WS_MAX_BYTES)
    return uvicorn.Config(
        app, http=protocol(header_timeout, body_timeout), proxy_headers=False, **options
    )
