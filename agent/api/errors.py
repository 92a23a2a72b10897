"""The shape of a refusal, as the schema publishes it."""

from __future__ import annotations

from pydantic import BaseModel


class FieldError(BaseModel):
    """One field FastAPI's validation found wrong (its own error shape)."""

    loc: list[str | int]
    msg: str
    type: str


class Refusal(BaseModel):
    """Why a request was refused: a sentence from a skill or route, or, for a request
    that does not fit the operation's schema, the list of fields at fault."""

    detail: str | list[FieldError]


# Documented on every resource route; FastAPI's default 422 names only the list.
REFUSALS = {422: {"model": Refusal, "description": "The request was refused"}}
# Where a route calls an outside service (skills' Unavailable).
UNREACHABLE = {502: {"model": Refusal, "description": "An outside service cannot be reached"}}
