"""Request dependencies as Annotated aliases: the session, the services, the current user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from agent import scopes
from agent.auth import TokenClaims, TokenError, check_not_revoked
from agent.observe import context
from agent.services import Services
from agent.websession import ACCESS_COOKIE, CSRF_HEADER, csrf_ok, same_origin
from skills.context import SkillContext
from store.database import READ_ONLY, session_scope
from store.models.users import User
from store.repositories.users import get_user


# The dependencies below are async though they never wait: FastAPI runs a plain ``def``
# dependency on its thread pool, a hand-over to another thread and back on every request.
async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """One session per request; commits when the handler returns, rolls back if it raises."""
    async with session_scope(services.sessions) as session:
        yield session


# scope="function": commit before the response goes out, so a 2xx means it is stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="A token from `lifeos token EMAIL`")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=reason,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )


async def get_token_claims(
    request: HTTPConnection,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenClaims:
    """What the request's bearer token says (signature and expiry checked), or, with
    no bearer token, the web page's session cookie, whose requests that change
    something must also pass the CSRF checks."""
    from_cookie = credentials is None or credentials.scheme.lower() != "bearer"
    token = request.cookies.get(ACCESS_COOKIE, "") if from_cookie else credentials.credentials
    if not token:
        raise _unauthorized("missing bearer token")
    try:
        claims = services.tokens.claims(token)
    except TokenError as exc:
        raise _unauthorized(str(exc)) from exc
    if from_cookie:
        _check_csrf(request, services, claims)
    return claims


def _check_csrf(request: HTTPConnection, services: Services, claims: TokenClaims) -> None:
    """A cookie goes with every request the browser makes to us, whichever site asked
    for it: one that changes something, or opens a socket, must show it came from our
    page (a socket cannot carry our header: its Origin must be ours)."""
    socket = request.scope["type"] == "websocket"
    if not socket and _method(request) not in UNSAFE_METHODS:
        return
    if not same_origin(request, services.settings.public_url) or (
        socket and "origin" not in request.headers
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused")
    if socket:
        return
    if claims.family is None or not csrf_ok(
        services.tokens, claims.family, request.headers.get(CSRF_HEADER)
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"missing or wrong {CSRF_HEADER} header")


TokenClaimsDep = Annotated[TokenClaims, Depends(get_token_claims)]


def _method(connection: HTTPConnection) -> str:
    return str(connection.scope.get("method", "GET"))  # a socket opens with a GET


async def get_current_user(
    request: HTTPConnection, session: SessionDep, claims: TokenClaimsDep
) -> User:
    method, path = _method(request), request.url.path
    if path == scopes.GRAPHQL:  # looking is asked here; each mutation is judged later
        method = "GET"
    if not scopes.allows(claims.scopes, method, path):
        assert claims.scopes is not None
        raise HTTPException(status.HTTP_403_FORBIDDEN, scopes.refusal(claims.scopes, method, path))
    if not session.in_transaction():
        # Only reads: on SQLite this runs beside the writers on a WAL snapshot instead
        # of queueing for the write lock (the handler's own unit of work takes it).
        await session.connection(execution_options={READ_ONLY: True})
    try:
        await check_not_revoked(session, claims)
    except TokenError as exc:
        await session.commit()
        raise _unauthorized(str(exc)) from exc
    user = await get_user(session, claims.user_id)
    # Nothing is written yet: end this read so the request holds no pooled connection
    # (nor SQLite's write lock) while the handler works elsewhere, as the assistant
    # does in its own unit of work. Held, 15 conversations at once took the whole pool
    # and each waited for a second connection that never came.
    await session.commit()
    if user is None:
        raise _unauthorized("token names a user that does not exist")
    context.bind_user(user.id)  # the request's log lines name whose it was
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_skill_context(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    claims: TokenClaimsDep,
    services: ServicesDep,
) -> SkillContext:
    return SkillContext.for_user(
        session,
        user,
        reach=scopes.reach(claims.scopes),
        ip=request.client.host if request.client else None,
        keys=services.keys,
        files=services.files,
        bank=services.bank,
    )


SkillCtx = Annotated[SkillContext, Depends(get_skill_context)]


async def resolve_caller(
    connection: HTTPConnection, token: str | None = None
) -> tuple[User, TokenClaims]:
    """The current user and their token's claims by the same dependencies as above,
    for callers outside FastAPI's injection (GraphQL, whose socket signs in with its
    first message): ``token`` when given, else the connection's own credentials (a
    bearer header, or the page's session cookie with its CSRF checks)."""
    services: Services = connection.app.state.services
    credentials = (
        HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
        if token
        else await _bearer(connection)  # type: ignore[arg-type]
    )
    claims = await get_token_claims(connection, services, credentials)
    async with session_scope(services.sessions) as session:
        return await get_current_user(connection, session, claims), claims
