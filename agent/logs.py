"""What the server's own log lines may say: where and what kind, never what a user
wrote. Query strings (search text, the voice socket's ?token=) and exception
messages (a database error quotes the row it could not write) are withheld;
paths, status codes, exception types and code locations stay."""

from __future__ import annotations

import logging
import traceback

WITHHELD = "(message withheld: it may hold user data)"
_LOGGERS = ("uvicorn.access", "uvicorn.error")


class Withhold(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_without_query(a) for a in record.args)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = withheld_traceback(record.exc_info[1])
        return True


def _without_query(value: object) -> object:
    if isinstance(value, str) and value.startswith("/") and "?" in value:
        return value.split("?", 1)[0] + "?[query withheld]"
    return value


def withheld_traceback(exc: BaseException) -> str:
    """The traceback as Python prints it, with every exception in the chain reduced
    to its type: the frames say where it went wrong, the messages may quote data."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        context = None if current.__suppress_context__ else current.__context__
        current = current.__cause__ or context
    parts: list[str] = []
    for error in reversed(chain):
        if parts:
            parts.append("\nDuring it, or because of it:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        kind = type(error)
        parts.append(f"{kind.__module__}.{kind.__qualname__} {WITHHELD}\n")
    return "".join(parts).rstrip("\n")


def withhold_user_data() -> None:
    """Install the filter on uvicorn's loggers (once, however many apps are made)."""
    for name in _LOGGERS:
        log = logging.getLogger(name)
        if not any(isinstance(f, Withhold) for f in log.filters):
            log.addFilter(Withhold())
