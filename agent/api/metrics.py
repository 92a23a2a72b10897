"""/metrics: Prometheus's text format. Not behind the user's token: a scraper has
none. With LIFEOS_METRICS_TOKEN set, it needs `Authorization: Bearer <that token>`
from any address; without it, only clients on this machine (the loopback address,
as the app sees the client: behind a trusted proxy that is the proxy's client) may
read it — the same rule as a database port that listens on localhost only."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from agent.api.deps import ServicesDep

router = APIRouter(tags=["operations"])


# PlainTextResponse: the schema then names the text the scraper gets, not JSON.
@router.get(
    "/metrics",
    summary="Prometheus metrics (token or loopback only)",
    response_class=PlainTextResponse,
)
async def metrics(request: Request, services: ServicesDep) -> Response:
    expected = services.settings.metrics_token
    if expected is not None:
        given = request.headers.get("authorization", "")
        wanted = f"Bearer {expected.get_secret_value()}"
        if not hmac.compare_digest(given.encode(), wanted.encode()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "metrics need the bearer token set in LIFEOS_METRICS_TOKEN",
                headers={"WWW-Authenticate": "Bearer"},
            )
    elif not _loopback(request.client.host if request.client else None):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "metrics are served to this machine only; set LIFEOS_METRICS_TOKEN to scrape "
            "them from elsewhere",
        )
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
