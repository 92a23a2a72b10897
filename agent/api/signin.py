"""Signing in like a person: an email address or phone number with a password or a
one-time code, a forgotten password reset by a code, the owner's first password from
the link printed at start-up, an invitation accepted by someone new, and a signed-in
person changing their password. Each sets the web page's session cookies
(agent/websession.py)."""

from __future__ import annotations

import logging
import uuid
from typing import Literal

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from agent import codes, websession
from agent.api.deps import CurrentUser, ServicesDep, SessionDep, TokenClaimsDep
from agent.auth import TokenClaims
from agent.outbox import Unavailable, Undelivered
from agent.passwords import MAX_LENGTH, hash_password, verify_password, weakness
from agent.services import Services
from skills.context import SkillContext
from skills.households import HouseholdService, find_invitation
from store.database import session_scope
from store.models.signin import CodePurpose
from store.models.users import User, UserCreate, normalize_email, normalize_phone
from store.repositories import signin as records
from store.repositories import tokens as issued
from store.repositories.users import UserConflict, create_user

router = APIRouter(prefix="/v1/auth", tags=["account"])
WRONG = "wrong sign-in details"  # never which part: that would tell who has an account
log = logging.getLogger(__name__)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=3, max_length=320, examples=["ann@example.com"])
    password: str | None = Field(default=None, max_length=MAX_LENGTH)
    code: str | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def _one_secret(self) -> SignIn:
        if (self.password is None) == (self.code is None):
            raise ValueError("give a password or a code sent to you: exactly one")
        return self


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=3, max_length=320)
    purpose: Literal["sign_in", "reset"] = "sign_in"


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=3, max_length=320)
    code: str = Field(max_length=20)
    password: str = Field(max_length=MAX_LENGTH)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current: str = Field(max_length=MAX_LENGTH)
    password: str = Field(max_length=MAX_LENGTH)


class PasswordSetup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=10, max_length=100)  # from the link
    password: str = Field(max_length=MAX_LENGTH)


class NewMember(BaseModel):
    """Accepting an invitation without an account: it becomes one. An invitation
    sent to a phone number needs an email address too."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=4, max_length=40)
    password: str = Field(max_length=MAX_LENGTH)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)


class SessionOut(BaseModel):
    user_id: uuid.UUID
    email: str
    name: str | None
    csrf: str | None  # send it as X-CSRF-Token with the cookie; None for a bearer token


def _login(raw: str) -> str:
    """The address a code goes to, normalized; 422 when it is neither form."""
    try:
        return normalize_phone(raw) if raw.strip().startswith("+") else normalize_email(raw)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


def _account_key(raw: str) -> str:
    """One key per account, however its address is written (case, spaces in a number)."""
    try:
        return _login(raw)
    except HTTPException:
        return raw.strip().lower()


def _refused() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, WRONG, headers={"WWW-Authenticate": "Bearer"}
    )


def _good_password(password: str) -> None:
    problem = weakness(password)
    if problem:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)


async def _not_locked(services: Services, key: str) -> None:
    wait = await services.account_sign_ins.retry_after(key)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed sign-ins for this account; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


async def _failed(services: Services, session: AsyncSession, key: str) -> HTTPException:
    """Count a failure against the account, keep what it spent (a code's attempt)."""
    await services.account_sign_ins.failed(key)
    await session.commit()
    return _refused()


def _signed_in(
    request: Request, response: Response, session: AsyncSession, services: Services, user: User
) -> SessionOut:
    grant = websession.start(session, services.tokens, user.id)
    websession.set_cookies(response, grant, websession.secure(request))
    return SessionOut(user_id=user.id, email=user.email, name=user.name, csrf=grant.csrf)


@router.post("/signin", response_model=SessionOut, summary="Sign in: password or code")
async def sign_in(
    body: SignIn, request: Request, response: Response, session: SessionDep, services: ServicesDep
) -> SessionOut:
    """Sets the page's session cookies (HttpOnly) and answers the CSRF token."""
    key = _account_key(body.login)
    await _not_locked(services, key)
    user = await records.user_by_login(session, body.login)
    if body.password is not None:
        stored = await records.password_hash(session, user.id) if user else None
        good = await verify_password(stored, body.password) and user is not None
    else:
        assert body.code is not None
        good = user is not None and await codes.redeem(
            session, services.tokens, user.id, CodePurpose.SIGN_IN, body.code
        )
    if not good or user is None:
        raise await _failed(services, session, key)
    return _signed_in(request, response, session, services, user)


@router.post("/code", status_code=202, summary="Send a one-time code by email or SMS")
async def send_code(
    body: CodeRequest, services: ServicesDep, background: BackgroundTasks
) -> dict[str, str]:
    """To sign in without the password, or to set a new one. The answer, and the time
    it takes, are the same whether or not an account has that address: the account is
    looked up and the code made and sent after the answer has gone."""
    login = _login(body.login)
    outbox = services.outbox()
    try:
        channel = outbox.check(login)
    except Unavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    wait = await services.code_sends.retry_after(login)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many codes sent to this address; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    await services.code_sends.failed(login)
    background.add_task(_send_code, services, login, CodePurpose(body.purpose))
    where = "email address" if channel == "email" else "phone number"
    return {"detail": f"if an account has that {where}, a code is on its way", "channel": channel}


async def _send_code(services: Services, login: str, purpose: CodePurpose) -> None:
    """Make and send a code, when an account has the address. Nobody waits for the
    answer: a message that cannot be sent is logged (the person asks again)."""
    async with session_scope(services.sessions) as session:
        user = await records.user_by_login(session, login)
        if user is None:
            return
        code = await codes.new_code(session, services.tokens, user.id, purpose)
    # Committed: on record before it can arrive.
    doing = "sign-in code" if purpose is CodePurpose.SIGN_IN else "code to set a new password"
    minutes = int(codes.CODE_LIFETIME.total_seconds() // 60)
    text = f"Your Life OS {doing} is {code}. It works once, for {minutes} minutes."
    try:
        await services.outbox().send(login, f"Your Life OS {doing}", text)
    except (Undelivered, Unavailable) as exc:
        log.warning("a %s for user %s could not be sent: %s", doing, user.id, exc)


@router.post("/password/reset", response_model=SessionOut, summary="Forgot password: reset it")
async def reset_password(
    body: PasswordReset,
    request: Request,
    response: Response,
    session: SessionDep,
    services: ServicesDep,
) -> SessionOut:
    """With a code from ``POST /v1/auth/code`` (purpose ``reset``): sets the new
    password, signs out every other session and token of the account, signs in here."""
    _good_password(body.password)
    key = _account_key(body.login)
    await _not_locked(services, key)
    user = await records.user_by_login(session, body.login)
    if user is None or not await codes.redeem(
        session, services.tokens, user.id, CodePurpose.RESET, body.code
    ):
        raise await _failed(services, session, key)
    await _replace_password(session, services, user, body.password)
    return _signed_in(request, response, session, services, user)


@router.post("/password", response_model=SessionOut, summary="Change the password")
async def change_password(
    body: PasswordChange,
    user: CurrentUser,
    claims: TokenClaimsDep,
    session: SessionDep,
    services: ServicesDep,
) -> SessionOut:
    """With the current password, whose failures count against the account as a
    sign-in's do: sets the new one and signs out every other session, refresh family
    and token of the account. The one it came from stays signed in."""
    _good_password(body.password)
    key = _account_key(user.email)
    await _not_locked(services, key)
    stored = await records.password_hash(session, user.id)
    if not await verify_password(stored, body.current):
        await services.account_sign_ins.failed(key)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the current password is wrong")
    await _replace_password(session, services, user, body.password, keep=claims)
    csrf = websession.csrf_token(services.tokens, claims.family) if claims.family else None
    return SessionOut(user_id=user.id, email=user.email, name=user.name, csrf=csrf)


@router.post("/password/setup", response_model=SessionOut, summary="First password, from a link")
async def set_up_password(
    body: PasswordSetup,
    request: Request,
    response: Response,
    session: SessionDep,
    services: ServicesDep,
) -> SessionOut:
    """The link printed when the owner was created (or by ``lifeos user password-link``)."""
    _good_password(body.password)
    user_id = await codes.redeem_link(session, services.tokens, CodePurpose.SETUP, body.token)
    user = await session.get(User, user_id) if user_id else None
    if user is None:
        await session.commit()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "that link has expired or was used already; ask for a new one",
            headers={"WWW-Authenticate": "Bearer"},
        )
    await _replace_password(session, services, user, body.password)
    return _signed_in(request, response, session, services, user)


async def _replace_password(
    session: AsyncSession,
    services: Services,
    user: User,
    password: str,
    keep: TokenClaims | None = None,
) -> None:
    """Set the password and sign out everywhere else: every session and token of the
    account but ``keep``'s (the one changing it), and a live voice connection."""
    await records.set_password_hash(session, user.id, await hash_password(password))
    family = keep.family if keep is not None else None
    await websession.end(session, user_id=user.id, keep=family)
    await issued.revoke_all(session, user.id, keep=keep.jti if keep is not None else None)
    live = services.voice_connections.get(user.id)
    if live is not None:
        await live.stop("password changed")


@router.post(
    "/invitations/accept",
    response_model=SessionOut,
    summary="Accept an invitation without an account: make one and sign in",
)
async def join(
    body: NewMember,
    request: Request,
    response: Response,
    session: SessionDep,
    services: ServicesDep,
) -> SessionOut:
    """Someone with an account accepts at ``POST /v1/invitations/accept`` instead."""
    _good_password(body.password)
    invitation = await find_invitation(session, body.code)
    if invitation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "that invitation code is not valid")
    email = invitation.email or body.email
    if email is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "this invitation was sent to a phone number: give your email address too",
        )
    try:
        user = await create_user(
            session, UserCreate(email=email, phone=invitation.phone, name=body.name)
        )
    except (UserConflict, ValueError) as exc:
        conflict = isinstance(exc, UserConflict)
        raise HTTPException(
            status.HTTP_409_CONFLICT if conflict else status.HTTP_422_UNPROCESSABLE_CONTENT,
            "you already have an account: sign in, then accept the invitation"
            if conflict
            else str(exc),
        ) from exc
    await records.set_password_hash(session, user.id, await hash_password(body.password))
    ctx = SkillContext.for_user(session, user, keys=services.keys, files=services.files)
    await HouseholdService(ctx).accept(body.code)  # used, expired: refused, nothing kept
    return _signed_in(request, response, session, services, user)


@router.get("/session", response_model=SessionOut, summary="Who is signed in, and the CSRF token")
async def read_session(
    user: CurrentUser, claims: TokenClaimsDep, services: ServicesDep
) -> SessionOut:
    csrf = websession.csrf_token(services.tokens, claims.family) if claims.family else None
    return SessionOut(user_id=user.id, email=user.email, name=user.name, csrf=csrf)


@router.post("/refresh", response_model=SessionOut, summary="A fresh session cookie")
async def refresh(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    """Spends the refresh cookie for new cookies. A refresh token already spent
    signs that session out everywhere: it was copied."""
    secure = websession.secure(request)
    if not websession.same_origin(request, services.settings.public_url):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused")
    try:
        grant = await websession.rotate(
            session, services.tokens, request.cookies.get(websession.REFRESH_COOKIE, "")
        )
    except websession.SessionRefused as exc:
        await session.commit()  # the family's revocation stands
        refused = JSONResponse(status_code=401, content={"detail": str(exc)})
        websession.clear_cookies(refused, secure)
        return refused
    access = services.tokens.claims(grant.access)
    user = await session.get(User, access.user_id)
    assert user is not None
    out = SessionOut(user_id=user.id, email=user.email, name=user.name, csrf=grant.csrf)
    answer = JSONResponse(content=out.model_dump(mode="json"))
    websession.set_cookies(answer, grant, secure)
    return answer
