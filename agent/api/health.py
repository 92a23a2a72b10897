"""Liveness and readiness: is the database answering?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from agent.api.deps import ServicesDep
from store.database import DatabaseError, check_connection

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Service and database health")
async def healthz(services: ServicesDep) -> JSONResponse:
    try:
        await check_connection(services.engine)
    except DatabaseError as exc:
        return JSONResponse(
            status_code=503, content={"status": "unavailable", "database": str(exc)}
        )
    return JSONResponse({"status": "ok", "database": "ok"})
