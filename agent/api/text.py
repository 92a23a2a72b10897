"""One check of every text a request carries, before any route sees it.

A NUL character cannot be stored in PostgreSQL text, and a lone surrogate (a JSON
``\\ud800`` with no partner) is not Unicode that can be written out again: either
used to reach the database or the response encoder and fail there with a 500.
Here they are refused with a 422 that names the field.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request, status

_JSON = ("application/json", "application/merge-patch+json")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def problem(text: str) -> str | None:
    """What is wrong with ``text`` for storing and sending back, or None."""
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (not valid Unicode)"
    return None


def _find(value: Any, where: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        found = problem(value)
        return (where, found) if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            if problem(key):  # never echo the bad text itself: it cannot be encoded
                return (where, f"a field name with {problem(key)}")
            found = _find(item, f"{where}.{key}" if where else key)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _find(item, f"{where}[{index}]")
            if found:
                return found
    return None


def _refuse(where: str, what: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, f"{where or 'the request'} contains {what}"
    )


async def refuse_bad_text(request: Request) -> None:
    """Refuse NUL characters and lone surrogates in the path, query and body."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if problem(name):
            raise _refuse("", f"a parameter name with {problem(name)}")
        if found := problem(str(value)):
            raise _refuse(name, found)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in _JSON:
        try:
            data = json.loads(await request.body())
        except ValueError:
            return  # malformed JSON: the route's own validation says so
        found_in_body = _find(data, "")
        if found_in_body:
            raise _refuse(*found_in_body)
    elif kind in _FORMS:
        for name, value in (await request.form()).multi_items():
            if problem(name):
                raise _refuse("", f"a field name with {problem(name)}")
            if isinstance(value, str) and (found := problem(value)):
                raise _refuse(name, found)
