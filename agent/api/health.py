"""Liveness and readiness: is the database answering, are the models loaded?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from agent.api.deps import ServicesDep
from store.database import DatabaseError, check_connection

router = APIRouter(
    tags=["health"],
    responses={503: {"description": "Not ready: the database is down or models are loading"}},
)


@router.get("/healthz", summary="Service and database health")
async def healthz(services: ServicesDep) -> JSONResponse:
    try:
        await check_connection(services.engine)
    except DatabaseError as exc:
        return JSONResponse(
            status_code=503, content={"status": "unavailable", "database": str(exc)}
        )
    return JSONResponse(
        {
            "status": "ok",
            "database": "ok",
            "models": "ready" if services.ready else "loading",
            "rate_limits": services.counts.where,  # "redis", or "memory" in this process
            # "redis": the newest voice connection wins across processes; else per process
            "voice_connections": services.cluster.where,
        }
    )


@router.get("/readyz", summary="Ready to answer: database up and every model loaded")
async def readyz(services: ServicesDep) -> JSONResponse:
    response = await healthz(services)
    if response.status_code == 200 and not services.ready:
        return JSONResponse(status_code=503, content={"status": "loading"})
    return response
