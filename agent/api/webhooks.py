"""/v1/webhooks: subscribe URLs to changes, see every delivery and attempt, replay.

The rules are in skills/webhooks; these routes only carry them.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from agent.api.deps import ServicesDep, SkillCtx
from skills.webhooks.service import (
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhookService,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


async def get_webhooks(ctx: SkillCtx, services: ServicesDep) -> WebhookService:
    return WebhookService(ctx, services.settings.webhook_networks)


Webhooks = Annotated[WebhookService, Depends(get_webhooks)]


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe a URL; the signing secret is in this answer only",
)
async def create_webhook(webhooks: Webhooks, body: WebhookCreate) -> WebhookCreated:
    return await webhooks.create(body)


@router.get("", response_model=list[WebhookPublic], summary="Yours, with why any was disabled")
async def read_webhooks(webhooks: Webhooks) -> list[WebhookPublic]:
    return await webhooks.mine()


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhooks: Webhooks, webhook_id: uuid.UUID) -> None:
    await webhooks.delete(webhook_id)


@router.post(
    "/{webhook_id}/enable",
    response_model=WebhookPublic,
    summary="Take a disabled webhook back; its waiting deliveries go out again",
)
async def enable_webhook(webhooks: Webhooks, webhook_id: uuid.UUID) -> WebhookPublic:
    return await webhooks.enable(webhook_id)


@router.post(
    "/{webhook_id}/ping",
    response_model=DeliveryPublic,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a webhook.test delivery to check the receiver",
)
async def ping_webhook(
    webhooks: Webhooks, services: ServicesDep, webhook_id: uuid.UUID
) -> DeliveryPublic:
    queued = await webhooks.ping(webhook_id)
    await webhooks.session.commit()  # stored before the sender is woken to look for it
    if services.webhooks is not None:
        services.webhooks.wake()
    return queued


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[DeliveryPublic],
    summary="Its latest deliveries, newest first, each with its attempts",
)
async def read_deliveries(
    webhooks: Webhooks, webhook_id: uuid.UUID, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[DeliveryPublic]:
    return await webhooks.deliveries(webhook_id, limit)


@router.post(
    "/deliveries/{delivery_id}/replay",
    response_model=DeliveryPublic,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a delivery again (same webhook-id), whatever became of it",
)
async def replay_delivery(
    webhooks: Webhooks, services: ServicesDep, delivery_id: uuid.UUID
) -> DeliveryPublic:
    queued = await webhooks.replay(delivery_id)
    await webhooks.session.commit()
    if services.webhooks is not None:
        services.webhooks.wake()
    return queued
