"""Signing in like a person, through the HTTP API on both databases: a password or a
one-time code (mailed to a local SMTP server, texted through the local Twilio
server), the page's cookies and their CSRF checks, refresh rotation, scoped device
tokens, forgotten passwords, and invitations that are sent and accepted once."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent import codes
from agent.app import create_app
from agent.guards import RequestRates, RequestThrottle, SignInThrottle
from agent.services import Services
from agent.websession import ACCESS_COOKIE, CSRF_HEADER, REFRESH_COOKIE
from store.database import session_scope
from store.models import OneTimeCode, User
from store.models.signin import CodePurpose
from store.types import utcnow
from tests.agent.conftest import PASSWORD, SERVICE_NUMBER, give_password
from tests.local_server import serve
from tests.smtp_server import Inbox, code_in
from tests.twilio_server import FakeTwilio

ORIGIN = "https://lifeos.test"


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services=services)


@asynccontextmanager
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """One person's browser: its own cookie jar, on https as in production."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        yield client


set_password = give_password


async def sign_in(client: httpx.AsyncClient, login: str, **secret: str) -> httpx.Response:
    return await client.post("/v1/auth/signin", json={"login": login, **secret})


def csrf(signed_in: httpx.Response) -> dict[str, str]:
    return {CSRF_HEADER: signed_in.json()["csrf"]}


def cookie_flags(response: httpx.Response) -> dict[str, str]:
    return {
        header.split("=", 1)[0]: header.lower()
        for header in response.headers.get_list("set-cookie")
    }


async def test_the_owner_sets_a_password_from_the_link_then_signs_in_with_it(
    services: Services, app: FastAPI, user: User
) -> None:
    async with session_scope(services.sessions) as db:  # as `lifeos serve` does at start-up
        link = await codes.new_code(db, services.tokens, user.id, CodePurpose.SETUP)
    async with browser(app) as page:
        weak = await page.post("/v1/auth/password/setup", json={"token": link, "password": "short"})
        assert weak.status_code == 422 and "at least 10 characters" in weak.json()["detail"]
        made = await page.post(
            "/v1/auth/password/setup", json={"token": link, "password": PASSWORD}
        )
        assert made.status_code == 200, made.text
        assert made.json()["email"] == "ann@example.com"
        again = await page.post(
            "/v1/auth/password/setup", json={"token": link, "password": PASSWORD}
        )
        assert again.status_code == 401  # the link works once

    async with browser(app) as page:
        signed_in = await sign_in(page, "Ann@Example.com", password=PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        flags = cookie_flags(signed_in)
        for name in (ACCESS_COOKIE, REFRESH_COOKIE):
            assert "httponly" in flags[name] and "secure" in flags[name]
            assert "samesite=strict" in flags[name]
        assert "path=/v1/auth" in flags[REFRESH_COOKIE]
        assert "token" not in signed_in.json()  # nothing for a script to keep
        me = await page.get("/v1/me")  # the cookie alone signs the request in
        assert me.status_code == 200 and me.json()["email"] == "ann@example.com"
        session = await page.get("/v1/auth/session")
        assert session.json()["csrf"] == signed_in.json()["csrf"]


async def test_a_wrong_password_or_unknown_account_gets_the_same_refusal(
    services: Services, app: FastAPI, user: User
) -> None:
    await set_password(services, user)
    async with browser(app) as page:
        wrong = await sign_in(page, "ann@example.com", password="not the password")
        nobody = await sign_in(page, "nobody@example.com", password=PASSWORD)
        assert wrong.status_code == nobody.status_code == 401
        assert wrong.json() == nobody.json() == {"detail": "wrong sign-in details"}
        assert ACCESS_COOKIE not in page.cookies
        assert (await page.get("/v1/me")).status_code == 401


async def test_a_code_by_email_signs_in_once(
    services: Services, app: FastAPI, user: User, outside: tuple[Inbox, FakeTwilio]
) -> None:
    inbox, _ = outside
    async with browser(app) as page:
        sent = await page.post("/v1/auth/code", json={"login": "ann@example.com"})
        assert sent.status_code == 202 and sent.json()["channel"] == "email"
        code = code_in(inbox.last_to("ann@example.com"))
        assert (await sign_in(page, "ann@example.com", code=code)).status_code == 200
    async with browser(app) as thief:
        assert (await sign_in(thief, "ann@example.com", code=code)).status_code == 401
        # An unknown address gets the same answer, and nothing is mailed.
        unknown = await thief.post("/v1/auth/code", json={"login": "zed@example.com"})
        assert unknown.status_code == 202 and unknown.json() == sent.json()
    assert len(inbox.messages) == 1


async def test_a_code_by_sms_signs_in_and_a_wrong_guess_spends_attempts(
    services: Services, app: FastAPI, outside: tuple[Inbox, FakeTwilio]
) -> None:
    _, twilio = outside
    async with session_scope(services.sessions) as db:
        from store.models import UserCreate
        from store.repositories.users import create_user

        await create_user(db, UserCreate(email="dan@example.com", phone="+1 415 555 0199"))
    async with browser(app) as page:
        sent = await page.post("/v1/auth/code", json={"login": "+14155550199"})
        assert sent.status_code == 202 and sent.json()["channel"] == "sms"
        [text] = [r.form for r in twilio.requests if r.path.endswith("/Messages.json")]
        assert text["To"] == "+14155550199" and text["From"] == SERVICE_NUMBER
        code = code_in(text["Body"])
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        assert (await sign_in(page, "+14155550199", code=wrong)).status_code == 401
        assert (await sign_in(page, "+14155550199", code=code)).status_code == 200
        assert (await page.get("/v1/me")).json()["email"] == "dan@example.com"


async def test_an_expired_code_is_refused(
    services: Services, app: FastAPI, user: User, outside: tuple[Inbox, FakeTwilio]
) -> None:
    inbox, _ = outside
    async with browser(app) as page:
        await page.post("/v1/auth/code", json={"login": "ann@example.com"})
        code = code_in(inbox.last_to("ann@example.com"))
        async with session_scope(services.sessions) as db:
            await db.exec(update(OneTimeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert (await sign_in(page, "ann@example.com", code=code)).status_code == 401


async def test_without_smtp_email_is_refused_clearly_and_nothing_is_kept(
    services: Services, app: FastAPI, user: User
) -> None:
    await set_password(services, user)
    async with browser(app) as page:
        sent = await page.post("/v1/auth/code", json={"login": "ann@example.com"})
        assert sent.status_code == 503 and "LIFEOS_SMTP_HOST" in sent.json()["detail"]
        signed_in = await sign_in(page, "ann@example.com", password=PASSWORD)
        [family] = (await page.get("/v1/households")).json()
        invite = await page.post(
            f"/v1/households/{family['id']}/invitations",
            headers=csrf(signed_in),
            json={"email": "bob@example.com"},
        )
        assert invite.status_code == 503 and "LIFEOS_SMTP_HOST" in invite.json()["detail"]
    async with session_scope(services.sessions) as db:
        assert await codes_on_record(db) == 0


async def codes_on_record(db: object) -> int:
    from sqlmodel import func, select

    from store.models import Invitation

    return int((await db.exec(select(func.count()).select_from(Invitation))).one())  # type: ignore[attr-defined]


async def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_session(
    services: Services, app: FastAPI, user: User
) -> None:
    await set_password(services, user)
    async with browser(app) as page:
        first = await sign_in(page, "ann@example.com", password=PASSWORD)
        old_refresh, old_access = page.cookies[REFRESH_COOKIE], page.cookies[ACCESS_COOKIE]
        rotated = await page.post("/v1/auth/refresh")
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["csrf"] == first.json()["csrf"]  # the same session
        assert page.cookies[REFRESH_COOKIE] != old_refresh
        assert page.cookies[ACCESS_COOKIE] != old_access
        assert (await page.get("/v1/me")).status_code == 200
        async with browser(app) as thief:  # a copy of the old cookies
            thief.cookies.set(ACCESS_COOKIE, old_access, domain="lifeos.test")
            assert (await thief.get("/v1/me")).status_code == 401  # replaced, so revoked
            thief.cookies.set(REFRESH_COOKIE, old_refresh, domain="lifeos.test", path="/v1/auth")
            replayed = await thief.post("/v1/auth/refresh")
            assert replayed.status_code == 401 and "used elsewhere" in replayed.json()["detail"]
        # The whole family is gone: the page's current cookies stop working too.
        assert (await page.get("/v1/me")).status_code == 401
        assert (await page.post("/v1/auth/refresh")).status_code == 401


async def test_cookie_requests_that_change_something_need_the_csrf_token_and_our_origin(
    services: Services, app: FastAPI, user: User
) -> None:
    await set_password(services, user)
    async with browser(app) as page:
        signed_in = await sign_in(page, "ann@example.com", password=PASSWORD)
        task = {"title": "milk"}
        bare = await page.post("/v1/tasks", json=task)
        assert bare.status_code == 403 and CSRF_HEADER in bare.json()["detail"]
        forged = await page.post("/v1/tasks", json=task, headers={CSRF_HEADER: "0" * 32})
        assert forged.status_code == 403
        foreign = await page.post(
            "/v1/tasks", json=task, headers={**csrf(signed_in), "Origin": "https://evil.test"}
        )
        assert foreign.status_code == 403 and "cross-site" in foreign.json()["detail"]
        made = await page.post(
            "/v1/tasks", json=task, headers={**csrf(signed_in), "Origin": ORIGIN}
        )
        assert made.status_code == 201, made.text
        assert [t["title"] for t in (await page.get("/v1/tasks")).json()] == ["milk"]
        # Signing out ends the page's session and clears its cookies.
        out = await page.post("/v1/auth/signout", headers=csrf(signed_in))
        assert out.status_code == 200
        assert ACCESS_COOKIE not in page.cookies
    async with browser(app) as copy:
        copy.cookies.set(ACCESS_COOKIE, signed_in.cookies[ACCESS_COOKIE], domain="lifeos.test")
        assert (await copy.get("/v1/me")).status_code == 401


async def test_a_speaker_token_talks_but_never_touches_the_money(app: FastAPI, auth: dict) -> None:
    async with browser(app) as client:
        made = await client.post(
            "/v1/auth/tokens", headers=auth, json={"label": "kitchen", "scopes": ["speaker"]}
        )
        assert made.status_code == 201 and made.json()["scopes"] == ["speaker"]
        speaker = {"Authorization": f"Bearer {made.json()['token']}"}
        money = await client.get("/v1/transactions", headers=speaker)
        assert money.status_code == 403 and "speaker only" in money.json()["detail"]
        spent = await client.post(
            "/v1/transactions",
            headers=speaker,
            json={"kind": "expense", "amount": "5.00", "description": "coffee"},
        )
        assert spent.status_code == 403
        assert (await client.get("/v1/tasks", headers=speaker)).status_code == 200
        said = await client.post(
            "/v1/converse", headers=speaker, json={"text": "add milk to my shopping list"}
        )
        assert said.status_code == 200, said.text
        unknown = await client.post(
            "/v1/auth/tokens", headers=auth, json={"label": "x", "scopes": ["admin"]}
        )
        assert unknown.status_code == 422


async def test_forgot_password_sets_a_new_one_and_signs_out_everywhere_else(
    services: Services, app: FastAPI, user: User, outside: tuple[Inbox, FakeTwilio], auth: dict
) -> None:
    inbox, _ = outside
    await set_password(services, user)
    async with browser(app) as laptop, browser(app) as phone:
        assert (await sign_in(laptop, "ann@example.com", password=PASSWORD)).status_code == 200
        asked = await phone.post(
            "/v1/auth/code", json={"login": "ann@example.com", "purpose": "reset"}
        )
        assert asked.status_code == 202
        code = code_in(inbox.last_to("ann@example.com"))
        new = "a brand new passphrase"
        reset = await phone.post(
            "/v1/auth/password/reset",
            json={"login": "ann@example.com", "code": code, "password": new},
        )
        assert reset.status_code == 200, reset.text
        assert (await phone.get("/v1/me")).status_code == 200
        assert (await laptop.get("/v1/me")).status_code == 401  # signed out
        assert (await laptop.post("/v1/auth/refresh")).status_code == 401
        assert (await sign_in(laptop, "ann@example.com", password=PASSWORD)).status_code == 401
        assert (await sign_in(laptop, "ann@example.com", password=new)).status_code == 200


@pytest.mark.parametrize("by", ["email", "sms"])
async def test_an_invitation_is_sent_accepted_once_and_the_newcomer_signs_in(
    services: Services,
    app: FastAPI,
    user: User,
    outside: tuple[Inbox, FakeTwilio],
    by: str,
) -> None:
    inbox, twilio = outside
    await set_password(services, user)
    to = {"email": "bob@example.com"} if by == "email" else {"phone": "+14155550123"}
    async with browser(app) as ann:
        signed_in = await sign_in(ann, "ann@example.com", password=PASSWORD)
        family = await ann.post("/v1/households", headers=csrf(signed_in), json={"name": "Home"})
        invited = await ann.post(
            f"/v1/households/{family.json()['id']}/invitations", headers=csrf(signed_in), json=to
        )
        assert invited.status_code == 201, invited.text
        assert invited.json()["sent_by"] == by
    if by == "email":
        message = inbox.last_to("bob@example.com")
    else:
        [sent] = [r.form for r in twilio.requests if r.path.endswith("/Messages.json")]
        assert sent["To"] == "+14155550123"
        message = sent["Body"]
    link = re.search(r"https://lifeos\.test/#invite=([A-Z0-9]+)", message)
    assert link, message
    code = link.group(1)

    joining = {"code": code, "password": "bobs own password"}
    async with browser(app) as bob:
        if by == "sms":  # a phone invitation needs an email address for the account
            missing = await bob.post("/v1/auth/invitations/accept", json=joining)
            assert missing.status_code == 422
            joining["email"] = "bob@example.com"
        joined = await bob.post("/v1/auth/invitations/accept", json=joining)
        assert joined.status_code == 200, joined.text
        households = (await bob.get("/v1/households")).json()
        assert {h["name"] for h in households} >= {"Home"}
    async with browser(app) as bob_again:
        again = await bob_again.post(
            "/v1/auth/invitations/accept", json={**joining, "email": "bobby@example.com"}
        )
        assert again.status_code == 409  # used
        assert (
            await sign_in(bob_again, "bob@example.com", password="bobs own password")
        ).status_code == 200
        assert (await bob_again.get("/v1/me")).json()["email"] == "bob@example.com"


async def test_the_voice_socket_takes_the_page_cookie_only_from_our_own_origin(
    services: Services, app: FastAPI, user: User, auth: dict
) -> None:
    await set_password(services, user)
    async with browser(app) as page:
        assert (await sign_in(page, "ann@example.com", password=PASSWORD)).status_code == 200
        cookie = f"{ACCESS_COOKIE}={page.cookies[ACCESS_COOKIE]}"
        reader = await page.post(
            "/v1/auth/tokens", headers=auth, json={"label": "dashboard", "scopes": ["read"]}
        )
    async with serve(app) as url:
        socket_url = f"{url.replace('http', 'ws', 1)}/v1/voice"
        refusals = []
        for headers, query in (
            ({"Cookie": cookie, "Origin": "https://evil.test"}, ""),  # another site's page
            ({"Cookie": cookie}, ""),  # no Origin: not a browser, so it brings a token
            ({}, f"?token={reader.json()['token']}"),  # a token not meant for voice
        ):
            async with connect(socket_url + query, additional_headers=headers) as socket:
                with pytest.raises(ConnectionClosed) as closed:
                    await socket.recv()
            assert closed.value.rcvd is not None
            refusals.append((closed.value.rcvd.code, closed.value.rcvd.reason))
    assert refusals == [
        (1008, "a cross-site voice socket is refused"),
        (1008, "a cross-site voice socket is refused"),
        (1008, "this token may not open the voice socket"),
    ]


async def test_failed_sign_ins_and_codes_sent_are_limited_per_account(
    services: Services, app: FastAPI, user: User, outside: tuple[Inbox, FakeTwilio]
) -> None:
    inbox, _ = outside
    await set_password(services, user)
    services.account_sign_ins = SignInThrottle("2/minute", kind="account-sign-in")
    services.code_sends = SignInThrottle("2/minute", kind="code-sent")
    async with browser(app) as page:
        for _ in range(2):
            assert (
                await sign_in(page, "ann@example.com", password="a wrong guess")
            ).status_code == 401
        # Locked, whatever address guesses next, even with the right password.
        locked = await sign_in(page, "ANN@example.com", password=PASSWORD)
        assert locked.status_code == 429 and "this account" in locked.json()["detail"]
        sends = [
            (await page.post("/v1/auth/code", json={"login": "ann@example.com"})).status_code
            for _ in range(3)
        ]
        assert sends == [202, 202, 429]
    assert len(inbox.messages) == 2


async def test_sending_invitations_counts_as_sensitive(
    services: Services, app: FastAPI, auth: dict, outside: tuple[Inbox, FakeTwilio]
) -> None:
    services.requests = RequestThrottle(RequestRates.parse("100/minute", "100/minute", "2/minute"))
    async with browser(app) as client:
        [home] = (await client.get("/v1/households", headers=auth)).json()
        sent = [
            (
                await client.post(
                    f"/v1/households/{home['id']}/invitations",
                    headers=auth,
                    json={"email": f"guest{n}@example.com"},
                )
            ).status_code
            for n in range(3)
        ]
    assert sent == [201, 201, 429]


async def test_changing_the_password_needs_the_current_one_and_signs_out_everywhere_else(
    services: Services, app: FastAPI, user: User
) -> None:
    await set_password(services, user)
    new = "a brand new passphrase"
    async with browser(app) as laptop, browser(app) as phone:
        assert (await sign_in(laptop, "ann@example.com", password=PASSWORD)).status_code == 200
        here = csrf(await sign_in(phone, "ann@example.com", password=PASSWORD))

        wrong = await phone.post(
            "/v1/auth/password", headers=here, json={"current": "a wrong guess", "password": new}
        )
        assert wrong.status_code == 403 and "current password" in wrong.json()["detail"]
        weak = await phone.post(
            "/v1/auth/password", headers=here, json={"current": PASSWORD, "password": "short"}
        )
        assert weak.status_code == 422
        assert (await laptop.get("/v1/me")).status_code == 200  # nothing changed yet

        changed = await phone.post(
            "/v1/auth/password", headers=here, json={"current": PASSWORD, "password": new}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["csrf"] == here[CSRF_HEADER]  # the same session goes on
        assert (await phone.get("/v1/me")).status_code == 200
        assert (await phone.post("/v1/auth/refresh")).status_code == 200  # its family kept
        assert (await phone.get("/v1/me")).status_code == 200

        assert (await laptop.get("/v1/me")).status_code == 401  # signed out
        assert (await laptop.post("/v1/auth/refresh")).status_code == 401
        assert (await sign_in(laptop, "ann@example.com", password=PASSWORD)).status_code == 401
        assert (await sign_in(laptop, "ann@example.com", password=new)).status_code == 200


async def test_wrong_current_passwords_count_against_the_account_as_sign_ins_do(
    services: Services, app: FastAPI, user: User
) -> None:
    await set_password(services, user)
    services.account_sign_ins = SignInThrottle("2/minute", kind="account-sign-in")
    new = {"password": "a brand new passphrase"}
    async with browser(app) as page:
        here = csrf(await sign_in(page, "ann@example.com", password=PASSWORD))
        tried = [
            (
                await page.post("/v1/auth/password", headers=here, json={"current": guess, **new})
            ).status_code
            for guess in ("first wrong guess", "second wrong guess", PASSWORD)
        ]
        assert tried == [403, 403, 429]  # locked, even with the right one
        locked = await sign_in(page, "ann@example.com", password=PASSWORD)
        assert locked.status_code == 429  # and so is signing in


async def test_a_code_request_answers_alike_and_as_fast_whether_or_not_the_account_exists(
    services: Services, app: FastAPI, user: User, outside: tuple[Inbox, FakeTwilio]
) -> None:
    """Over a real socket, with a mail server that takes its time: the answer for
    Ann does not wait for her message, so it cannot tell her account from no one's."""
    inbox, _ = outside
    accept = inbox.handle_DATA

    async def slow(*args: object) -> str:
        await asyncio.sleep(1.5)
        return await accept(*args)

    inbox.handle_DATA = slow  # type: ignore[method-assign]
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        answers, took = [], []
        for login in ("ann@example.com", "zed@example.com"):
            started = time.perf_counter()
            answer = await client.post("/v1/auth/code", json={"login": login})
            took.append(time.perf_counter() - started)
            answers.append((answer.status_code, answer.json()))
        assert answers[0] == answers[1] and answers[0][0] == 202
        assert max(took) < 1.0, took  # neither waited on the mail server
        for _ in range(100):  # Ann's code still arrives, after the answer
            if inbox.messages:
                break
            await asyncio.sleep(0.1)
    assert [m["To"] for m in inbox.messages] == ["ann@example.com"]
    assert code_in(inbox.last_to("ann@example.com"))
