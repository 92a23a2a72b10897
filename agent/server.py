"""The HTTP server: uvicorn, with a deadline for a request's headers.

uvicorn times out an idle keep-alive connection, but not a connection that sends
nothing or sends its headers a byte at a time (slowloris): each such connection
holds a socket and a parser forever. h11's and httptools' size limits do not help
against slow bytes. This subclass of uvicorn's httptools protocol starts a clock
when a connection opens and when each request's first byte arrives, stops it when
the request's headers are complete, and answers 408 and closes when it runs out.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0  # seconds from the first byte (or the connection) to the last header
log = logging.getLogger(__name__)
_REASON = b"the request headers took too long\n"
_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_REASON), _REASON)
)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout = HEADER_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_clock: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_clock()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._stop_clock()
        super().on_headers_complete()

    def _start_clock(self) -> None:
        if self._header_clock is None:
            self._header_clock = self.loop.call_later(self.header_timeout, self._out_of_time)

    def _stop_clock(self) -> None:
        if self._header_clock is not None:
            self._header_clock.cancel()
            self._header_clock = None

    def _out_of_time(self) -> None:
        self._header_clock = None
        if self.transport.is_closing():
            return
        host, port = self.client or ("?", 0)
        log.info(
            "closed %s:%d: request headers not complete in %g s", host, port, self.header_timeout
        )
        self.transport.write(_TIMED_OUT)
        self.transport.close()


def protocol(header_timeout: float = HEADER_TIMEOUT) -> type[HeaderDeadlineProtocol]:
    """The protocol class with its deadline, for uvicorn's ``http=``."""
    return type(
        "HeaderDeadlineProtocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout": header_timeout},
    )


def config(app: Any, *, header_timeout: float = HEADER_TIMEOUT, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(app, http=protocol(header_timeout), **options)


def log_config() -> dict[str, Any]:
    """uvicorn's logging set-up, with the service's own loggers (``agent.*``: a
    client cut off, a voice client gone before ready) printed beside uvicorn's."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["agent"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
