"""The FastAPI app factory. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.responses import Response
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from agent.api import (
    auth,
    bank,
    caldav,
    converse,
    events,
    health,
    history,
    households,
    imports,
    invoices,
    lists,
    livekit_rooms,
    me,
    projects,
    reminders,
    signin,
    tasks,
    transactions,
    voice,
    webhooks,
)
from agent.api import metrics as metrics_route
from agent.api.errors import REFUSALS
from agent.api.text import refuse_bad_text
from agent.graphql.schema import graphql_router
from agent.guards import BodyLimit, RequestGuard, SecurityHeaders, SignInGuard
from agent.logs import withhold_user_data
from agent.observe.http import Observe
from agent.observe.log_setup import count_errors, stop_counting_errors
from agent.services import Services
from agent.settings import Settings
from skills.context import SkillError
from speech.web import ASSETS, PAGE, WEB_PAGE
from store.database import is_outage
from telephony import routes as twilio_routes

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Pass ``services`` to share an engine (tests); otherwise the app
    builds its own from ``settings`` at start-up and closes it at shutdown."""
    if settings is None:
        settings = services.settings if services is not None else Settings()
    configured = settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        warming: asyncio.Task[None] | None = None
        if owned:
            app.state.services = Services.build(configured)
            app.state.telephony = app.state.services.telephony
            # The port opens at once; models load meanwhile and /readyz says when done.
            warming = asyncio.create_task(app.state.services.warm_up())
        services_now: Services = app.state.services
        await services_now.cluster.start()
        if services_now.settings.scheduler_enabled and (owned or services_now.scheduler):
            # Reminders missed while the service was down go out now, then as they come due.
            services_now.start_scheduler()
        if services_now.settings.scheduler_enabled and (owned or services_now.webhooks):
            services_now.start_webhooks()
        errors = count_errors(services_now.metrics)
        try:
            yield
        finally:
            stop_counting_errors(errors)
            if warming is not None and not warming.done():
                warming.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await warming
            if services_now.scheduler is not None:
                await services_now.scheduler.stop()
            if services_now.webhooks is not None:
                await services_now.webhooks.stop()
            await services_now.cluster.stop()
            if owned:
                await app.state.services.close()

    withhold_user_data()  # the voice socket's ?token= and search text stay out of logs
    app = FastAPI(
        title="Life OS",
        summary="A voice-first assistant for tasks, calendar and money.",
        version="0.1.0",
        lifespan=lifespan,
    )
    if services is not None:
        app.state.services = services
        app.state.telephony = services.telephony
    for module in (
        health,
        me,
        auth,
        signin,
        tasks,
        lists,
        events,
        caldav,
        converse,
        transactions,
        projects,
        invoices,
        imports,
        bank,
        history,
        reminders,
        households,
        webhooks,
        livekit_rooms,
    ):
        app.include_router(
            module.router, dependencies=[Depends(refuse_bad_text)], responses=REFUSALS
        )
    # The same services over GraphQL, with live changes on its socket.
    app.include_router(graphql_router(configured.development), include_in_schema=False)
    app.include_router(metrics_route.router)  # its own access rule, not the user's token
    app.include_router(voice.router)  # a socket: its messages are audio and JSON events
    # Twilio's webhooks and Media Streams socket: signed by Twilio, form or JSON bodies.
    app.include_router(twilio_routes.router)
    app.add_exception_handler(SkillError, skill_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    for kind in OUTAGE_ERRORS:
        app.add_exception_handler(kind, database_outage)
    app.mount("/web", PageAssets(directory=WEB_PAGE), name="web")
    app.add_middleware(BodyLimit, max_bytes=configured.max_body_bytes)
    app.add_middleware(SignInGuard)
    app.add_middleware(RequestGuard)  # before the sign-in check: a flood costs no token check
    proxies = configured.forwarded_allow_ips
    if proxies.strip():  # outside the guard: it counts the client the proxy names
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    app.add_middleware(SecurityHeaders)  # a 429 from the guard carries them too
    app.add_middleware(Observe)  # outermost: every answer is timed and carries its id

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB_PAGE / PAGE)

    return app


class PageAssets(StaticFiles):
    """The page's own files and nothing else from its folder."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in ASSETS:
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


async def skill_error(request: Request, exc: Exception) -> JSONResponse:
    """A refusal from a skill, with the status it carries and its message."""
    status = getattr(exc, "status", 422)
    return JSONResponse(status_code=status, content={"detail": str(exc)})


# What a request meets while the database is restarting or unreachable: the pool
# hands out a connection that is gone, or cannot open one.
OUTAGE_ERRORS = (DBAPIError, ConnectionError, TimeoutError)
RETRY_AFTER_OUTAGE_SECONDS = 2  # the pool reconnects on the next checkout once it is back


async def database_outage(request: Request, exc: Exception) -> JSONResponse:
    """The database is away: a clean 503 the client can retry, not a traceback. Nothing
    was stored (the unit of work rolled back with its connection)."""
    if not is_outage(exc):
        raise exc  # a bug or a bad statement: the server's own 500
    log.warning("database unavailable (%s): answered 503", type(exc).__name__)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "the database is unavailable; nothing was changed, try again"},
        headers={"Retry-After": str(RETRY_AFTER_OUTAGE_SECONDS)},
    )


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422, made to survive an input JSON cannot hold: a number such
    as 1e999999 is read as infinity, and echoing that back failed as a 500."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    finite = {float: lambda x: x if math.isfinite(x) else str(x)}
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": jsonable_encoder(errors, custom_encoder=finite)},
    )
