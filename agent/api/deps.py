"""Request dependencies as Annotated aliases: the session, the services, the current user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from agent.auth import TokenError
from agent.services import Services
from store.models.users import User
from store.repositories.users import get_user


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """One session per request; commits when the handler returns, rolls back if it raises."""
    async with services.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="A token from `lifeos token EMAIL`")


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=reason,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )


async def get_current_user(
    services: ServicesDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    try:
        user_id = services.tokens.verify(credentials.credentials)
    except TokenError as exc:
        raise _unauthorized(str(exc)) from exc
    user = await get_user(session, user_id)
    if user is None:
        raise _unauthorized("token names a user that does not exist")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
