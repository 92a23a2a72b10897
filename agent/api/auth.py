"""Tokens: issuing one for a device, listing those that still count, revoking one or
all of them (signing out)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from agent import websession
from agent.api.deps import CurrentUser, ServicesDep, SessionDep, TokenClaimsDep
from agent.auth import issue_recorded
from agent.scopes import Scope
from store.models.tokens import MAX_LABEL
from store.repositories import tokens as issued

router = APIRouter(prefix="/v1/auth", tags=["account"])


class NewToken(BaseModel):
    label: str = Field(min_length=1, max_length=MAX_LABEL, examples=["kitchen speaker"])
    days: int = Field(default=365, ge=1, le=3650)
    # What the device may do (agent/scopes.py): "voice" talks, "speaker" talks and
    # reads the lists and calendar, and does no money by voice either; "read" reads
    # anything and asks questions, changing nothing; none: all its user may.
    scopes: list[Scope] | None = Field(default=None, min_length=1, examples=[["speaker"]])


class IssuedTokenOut(BaseModel):
    id: str
    label: str
    created_at: datetime
    expires_at: datetime
    current: bool = False  # the token this request was made with


class TokenOut(IssuedTokenOut):
    token: str  # shown once: only its id is kept
    scopes: list[str] | None = None


@router.post("/tokens", status_code=201, response_model=TokenOut, summary="A token for a device")
async def create_token(
    body: NewToken, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> TokenOut:
    """A token for a speaker, a phone app or a script, revocable on its own."""
    scopes = frozenset(body.scopes) if body.scopes else None
    token, row = issue_recorded(
        session, services.tokens, user.id, body.label, ttl=timedelta(days=body.days), scopes=scopes
    )
    return TokenOut(
        id=row.jti,
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        token=token,
        scopes=sorted(scopes) if scopes else None,
    )


@router.get("/tokens", response_model=list[IssuedTokenOut], summary="Tokens that still count")
async def list_tokens(
    user: CurrentUser, session: SessionDep, claims: TokenClaimsDep
) -> list[IssuedTokenOut]:
    return [
        IssuedTokenOut(
            id=row.jti,
            label=row.label,
            created_at=row.created_at,
            expires_at=row.expires_at,
            current=row.jti == claims.jti,
        )
        for row in await issued.active(session, user.id)
    ]


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of your tokens")
async def revoke_token(token_id: str, user: CurrentUser, session: SessionDep) -> Response:
    if not await issued.revoke(session, token_id[:64], user.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such token of yours still counts")
    return Response(status_code=204)


@router.post("/signout", summary="Sign out: revoke this token, or every one of yours")
async def sign_out(
    request: Request,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    claims: TokenClaimsDep,
    services: ServicesDep,
    everywhere: bool = False,
) -> dict[str, int]:
    """The token this request was made with stops working at once (with
    ``?everywhere=true``, every token of yours on record does). From the page, its
    session ends too: its refresh token stops counting and its cookies are cleared."""
    if claims.family is not None:
        await websession.end(session, family=claims.family)  # its access tokens too
        websession.clear_cookies(response, websession.secure(request))
        if not everywhere:
            return {"revoked": 1}
    if everywhere:
        await websession.end(session, user_id=user.id)
        revoked = await issued.revoke_all(session, user.id)
        live = services.voice_connections.get(user.id)
        if live is not None:  # a page or speaker still talking on a token now revoked
            await live.stop("signed out everywhere")
        return {"revoked": revoked}
    if claims.jti is None:
        return {"revoked": 0}
    if await issued.revoke(session, claims.jti, user.id):
        return {"revoked": 1}
    # A token never put on record (issued before tokens were recorded): record it as
    # revoked, so it stops working all the same.
    issued.record(session, claims.jti, user.id, "signed out", claims.expires_at, revoked=True)
    return {"revoked": 1}
