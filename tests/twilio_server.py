"""A local server that speaks the parts of Twilio's REST API Life OS uses (send a
message, place a call, end a call), for tests: the real `twilio` client is pointed
at it. It records every request and answers with Twilio's JSON and error shapes."""

from __future__ import annotations

import base64
import secrets
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.local_server import serve

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "f" * 32
ACCOUNTS = f"/2010-04-01/Accounts/{ACCOUNT_SID}"


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]


@dataclass
class FakeTwilio:
    requests: list[Recorded] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post(ACCOUNTS + "/Messages.json")
        async def message(request: Request) -> JSONResponse:
            form, refused = await self._take(request)
            if refused is not None:
                return refused
            if not form.get("To", "").startswith("+"):
                return _error(400, 21211, f"The 'To' number {form.get('To')} is not valid.")
            sid = "SM" + secrets.token_hex(16)
            return JSONResponse(
                status_code=201,
                content={
                    "sid": sid,
                    "account_sid": ACCOUNT_SID,
                    "to": form["To"],
                    "from": form.get("From"),
                    "body": form.get("Body"),
                    "status": "queued",
                    "num_segments": "1",
                    "direction": "outbound-api",
                    "uri": f"{ACCOUNTS}/Messages/{sid}.json",
                },
            )

        @app.post(ACCOUNTS + "/Calls.json")
        async def call(request: Request) -> JSONResponse:
            form, refused = await self._take(request)
            if refused is not None:
                return refused
            sid = "CA" + secrets.token_hex(16)
            return JSONResponse(status_code=201, content=_call(sid, form, "queued"))

        @app.post(ACCOUNTS + "/Calls/{sid}.json")
        async def update_call(sid: str, request: Request) -> JSONResponse:
            form, refused = await self._take(request)
            if refused is not None:
                return refused
            return JSONResponse(content=_call(sid, form, form.get("Status", "in-progress")))

        return app

    async def _take(self, request: Request) -> tuple[dict[str, str], JSONResponse | None]:
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.requests.append(Recorded(request.method, request.url.path, form))
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return form, _error(401, 20003, "Authenticate")
        return form, None

    def running(self) -> AbstractAsyncContextManager[str]:
        return serve(self.app())


def _call(sid: str, form: dict[str, str], status: str) -> dict[str, Any]:
    return {
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "to": form.get("To"),
        "from": form.get("From"),
        "status": status,
        "direction": "outbound-api",
        "uri": f"{ACCOUNTS}/Calls/{sid}.json",
    }


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )
