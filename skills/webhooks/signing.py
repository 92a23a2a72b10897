"""Signing per the Standard Webhooks spec (standardwebhooks.com): the secret is
``whsec_`` and base64 of random bytes; each delivery carries ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">``, so a receiver can check it with any of the spec's libraries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's prefix, not a secret
SECRET_BYTES = 32


def message_id(delivery_id: uuid.UUID) -> str:
    """The ``webhook-id`` of a delivery: the same on every retry and replay, so a
    receiver can tell a repeat from a new event."""
    return f"msg_{delivery_id.hex}"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """The request headers of one attempt: signed at the moment it is sent."""
    timestamp = int(sent_at.timestamp())
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
