"""The audit log: one row per action a user (or the system on their behalf) took."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from store.models.records import AuditEntry


def record(
    session: AsyncSession,
    user_id: uuid.UUID,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    *,
    meta: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Add an audit row in the caller's transaction, so it commits or rolls back with the change."""
    entry = AuditEntry(
        user_id=user_id,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id) if resource_id is not None else None,
        meta=meta or {},
        ip=ip,
    )
    session.add(entry)
    return entry
