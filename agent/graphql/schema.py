"""The schema and its FastAPI router at /graphql."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from fastapi import HTTPException, status
from graphql import ExecutionResult, GraphQLError
from pydantic import AwareDatetime, ValidationError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import GraphQLRouter
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.graphql import OperationType

from agent import scopes
from agent.api.deps import resolve_caller
from agent.graphql.context import GraphQLContext, graphql_context
from agent.graphql.limits import limits
from agent.graphql.mutations import Mutation
from agent.graphql.queries import Query
from agent.graphql.subscriptions import Subscription
from skills.context import SkillError

PATH = scopes.GRAPHQL


class UnitOfWork(SchemaExtension):
    """Commit an operation's changes when all of it succeeded, else keep none; and
    give each error the status the REST API would have answered with."""

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        # Settled as soon as it has run: over the socket the result is sent before the
        # operation's end, and a change must not be reported done before it is kept
        # (a commit that fails here becomes the operation's error).
        yield
        for error in _errors(self.execution_context.result):
            _explain(error)
        await self._finish()

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        await self._finish()  # when execution did not run or did not finish

    async def _finish(self) -> None:
        context = self.execution_context.context
        if isinstance(context, GraphQLContext):
            failed = bool(_errors(self.execution_context.result))
            await context.finish(failed=failed)


def _errors(result: Any) -> list[Any]:
    return getattr(result, "errors", None) or []


class TokenScopes(SchemaExtension):
    """A device token's scopes hold over GraphQL as at REST's door (agent.scopes): a
    mutation is a change, asked as a POST to this path; a query or a subscription
    looks, as a GET. The door (over HTTP, where every operation is a POST, and on the
    socket) asks only whether the token may look here, so a read token may ask; each
    change it sends is refused here, before anything runs, in the door's words."""

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context.context
        changes = self.execution_context.operation_type is OperationType.MUTATION
        method = "POST" if changes else "GET"
        claims = context.claims if isinstance(context, GraphQLContext) else None
        if claims is not None and not scopes.allows(claims.scopes, method, PATH):
            assert claims.scopes is not None
            refused = HTTPException(
                status.HTTP_403_FORBIDDEN, scopes.refusal(claims.scopes, method, PATH)
            )
            error = GraphQLError(str(refused.detail), original_error=refused)
            self.execution_context.result = ExecutionResult(data=None, errors=[error])
        yield


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
        extensions=[*limits(), TokenScopes, UnitOfWork],
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
