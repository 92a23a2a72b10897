"""A GraphQL request's context: who is asking, and one unit of work for the answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import strawberry
from fastapi import HTTPException
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection, Request
from strawberry.fastapi import BaseContext

from agent.api.deps import get_skill_context, resolve_caller
from agent.api.text import refuse_bad_text
from agent.auth import TokenClaims
from agent.graphql.loaders import Loaders
from agent.services import Services
from skills.context import SkillContext
from store.models import User


@dataclass
class GraphQLContext(BaseContext):
    services: Services
    user: User | None = None
    claims: TokenClaims | None = None  # the caller's token: its scopes hold here as in REST
    connection_params: dict[str, Any] | None = None  # the socket's first message
    _work: contextlib.AsyncExitStack | None = None
    _session: AsyncSession | None = None
    _skills: SkillContext | None = None
    _loaders: Loaders | None = None
    # GraphQL resolves sibling fields at once, but a session serves one at a time.
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        super().__init__()

    @contextlib.asynccontextmanager
    async def work(self) -> AsyncIterator[SkillContext]:
        """The signed-in user's skill context on this operation's session, for one
        resolver (or one DataLoader batch) at a time."""
        async with self._turn:
            yield await self._skill_context()

    async def _skill_context(self) -> SkillContext:
        if self.user is None or self.claims is None:
            raise HTTPException(401, "not signed in")
        if self._skills is None:
            self._work = contextlib.AsyncExitStack()
            self._session = await self._work.enter_async_context(self.services.sessions())
            self._skills = await get_skill_context(
                self.request,  # type: ignore[arg-type]
                self._session,
                self.user,
                self.claims,  # a device token's reach, as REST's routes carry it
                self.services,
            )
        return self._skills

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.work)
        return self._loaders

    async def finish(self, *, failed: bool) -> None:
        """Commit what the operation did, or nothing of it if any part failed."""
        async with self._turn:
            if self._work is None or self._session is None:
                return
            try:
                if failed:
                    await self._session.rollback()
                else:
                    await self._session.commit()
            finally:
                work, self._work, self._session, self._skills, self._loaders = (
                    self._work,
                    None,
                    None,
                    None,
                    None,
                )
                await work.aclose()


Info = strawberry.Info[GraphQLContext, None]


def wants_ide(connection: HTTPConnection) -> bool:
    """A browser opening GraphiQL: a GET with no query to run."""
    return (
        isinstance(connection, Request)
        and connection.method == "GET"
        and "query" not in connection.query_params
    )


async def graphql_context(connection: HTTPConnection) -> GraphQLContext:
    """HTTP requests sign in as the REST routes do (401 without a valid token);
    sockets sign in with their first message (see the router's ``on_ws_connect``)."""
    services: Services = connection.app.state.services
    context = GraphQLContext(services=services)
    if isinstance(connection, Request) and not wants_ide(connection):
        await refuse_bad_text(connection)  # as every REST route does
        context.user, context.claims = await resolve_caller(connection)
    return context
