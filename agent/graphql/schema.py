"""The schema and its FastAPI router at /graphql."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from fastapi import HTTPException
from pydantic import AwareDatetime, ValidationError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import GraphQLRouter
from strawberry.schema.types.base_scalars import DateTimeDefinition

from agent.api.deps import resolve_caller
from agent.graphql.context import GraphQLContext, graphql_context
from agent.graphql.limits import limits
from agent.graphql.mutations import Mutation
from agent.graphql.queries import Query
from agent.graphql.subscriptions import Subscription
from skills.context import SkillError

PATH = "/graphql"


class UnitOfWork(SchemaExtension):
    """Commit an operation's changes when all of it succeeded, else keep none; and
    give each error the status the REST API would have answered with."""

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        context = self.execution_context.context
        result = self.execution_context.result
        errors = (result.errors if result is not None else None) or []
        for error in errors:
            _explain(error)
        if isinstance(context, GraphQLContext):
            await context.finish(failed=bool(errors))


def _explain(error: Any) -> None:
    """A refusal's words and status (403 not allowed, 404 not found, 422 bad input)."""
    cause = error.original_error
    status = None
    if isinstance(cause, SkillError):
        status = getattr(cause, "status", 422)
    elif isinstance(cause, ValidationError):
        status = 422
        error.message = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            if e["loc"]
            else e["msg"].removeprefix("Value error, ")
            for e in cause.errors()
        )
    elif isinstance(cause, HTTPException):
        status = cause.status_code
        error.message = str(cause.detail)
    if status is not None:
        error.extensions = {**(error.extensions or {}), "status": status}


class LifeOSSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Log what went wrong, not a refusal given as an answer (a bad input, a role
        that does not allow it, a record that is not there, a query over a limit)."""
        unexpected = [e for e in errors if _expected(e.original_error) is False]
        super().process_errors(unexpected, execution_context)


def _expected(cause: BaseException | None) -> bool:
    return cause is None or isinstance(cause, SkillError | ValidationError | HTTPException)


@functools.cache  # immutable once built; every app in a process (tests make many) shares it
def build_schema() -> strawberry.Schema:
    return LifeOSSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[*limits(), UnitOfWork],
        # The models' times with a zone are plain DateTimes here; the model checks the zone.
        scalar_overrides={AwareDatetime: DateTimeDefinition},
    )


class LifeOSGraphQL(GraphQLRouter[GraphQLContext, None]):
    async def on_ws_connect(self, context: GraphQLContext) -> dict[str, object] | None:
        """The socket signs in with its first message, ``{"token": "…"}`` (a browser
        cannot set headers on a WebSocket), or the upgrade's own credentials."""
        token = (context.connection_params or {}).get("token")
        try:
            context.user, context.claims = await resolve_caller(
                context.request,  # type: ignore[arg-type]
                token if isinstance(token, str) else None,
            )
        except HTTPException as exc:
            raise ConnectionRejectionError({"reason": exc.detail}) from exc
        return None


@functools.cache  # one per process and setting: apps include copies of its routes
def graphql_router(development: bool) -> GraphQLRouter[GraphQLContext, None]:
    """GraphiQL (in the browser at GET /graphql) only in development."""
    return LifeOSGraphQL(
        build_schema(),
        path=PATH,
        context_getter=graphql_context,
        graphql_ide="graphiql" if development else None,
        allow_queries_via_get=False,  # a GET must never change anything, nor be cached
    )
