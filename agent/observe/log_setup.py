"""Logging, configured once at start: `LIFEOS_LOG_FORMAT=json|text` and
`LIFEOS_LOG_LEVEL`. In JSON every line, uvicorn's access lines and pipecat's
warnings among them, is one object with the ids of the request, session, voice turn
and user it belongs to. What a user said or wrote, and amounts, are logged only at
DEBUG; tokens and passwords never (agent/logs.py withholds query strings and
exception messages on every line)."""

from __future__ import annotations

import copy
import logging
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter
from uvicorn.config import LOGGING_CONFIG

from agent.logs import Withhold
from agent.observe import context
from agent.observe.metrics import Metrics

LogFormat = Literal["json", "text"]
JSON_FIELDS = ("asctime", "levelname", "name", "message")
# uvicorn's own extras: its colored copy of each message says the same thing twice.
_NOT_FIELDS = ("color_message",)


class ContextIds(logging.Filter):
    """Puts the ids of the current request, session, turn and user on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in context.current().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def json_formatter() -> JsonFormatter:
    reserved = (*logging.LogRecord("", 0, "", 0, "", None, None).__dict__, "message", "asctime")
    return JsonFormatter(
        list(JSON_FIELDS),
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        reserved_attrs=[*reserved, *_NOT_FIELDS],
    )


def log_config(log_format: LogFormat = "text", level: str = "INFO") -> dict[str, Any]:
    """The logging set-up for `logging.config.dictConfig` and uvicorn's
    ``log_config``: uvicorn's loggers and handlers, the service's own loggers beside
    them, and in JSON one formatter for all."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {
        "ids": {"()": ContextIds},
        "withhold": {"()": Withhold},
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["ids", "withhold"]
        if log_format == "json":
            handler["formatter"] = "json"
    if log_format == "json":
        config["formatters"]["json"] = {"()": json_formatter}
    config["loggers"]["uvicorn"]["level"] = level
    # Everything else (agent.*, telephony.*, pipecat through speech/logs.py) goes to
    # the root logger and prints beside uvicorn's lines.
    config["root"] = {"handlers": ["default"], "level": level}
    # Clients of other services log each outbound request at INFO: httpx its whole URL
    # (a CalDAV path, a search), twilio's its URL, parameters and headers (numbers, a
    # text's words). Only their warnings.
    for quiet in ("httpx", "httpcore", "twilio", "caldav"):
        config["loggers"][quiet] = {"level": "WARNING"}
    return config


class ErrorCounter(logging.Handler):
    """Counts each error line as an error of its logger's kind (its first two name
    parts: "agent.reminders", "uvicorn.error"): a bounded set, known from the code."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(logging.ERROR)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        self.metrics.error(".".join(record.name.split(".")[:2]))


def count_errors(metrics: Metrics) -> ErrorCounter:
    """Start counting error lines (until ``logging.getLogger().removeHandler``)."""
    counter = ErrorCounter(metrics)
    for name in ("", "uvicorn"):  # uvicorn's loggers do not pass lines to the root
        logging.getLogger(name).addHandler(counter)
    return counter


def stop_counting_errors(counter: ErrorCounter) -> None:
    for name in ("", "uvicorn"):
        logging.getLogger(name).removeHandler(counter)
