"""/api/v1/webhooks: the caller's signing secrets, its delivery log, and redelivery."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Literal

import redis
from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool

from index import webhooks
from index.models import WebhookDelivery
from workers import api as farm_api
from workers import serviceconfig

from .. import schemas
from ..deps import Caller, DbSession, Principal, require_scope
from ..errors import ApiError

log = logging.getLogger(__name__)
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a delivery's id (a 64-bit database key)")]
router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], dependencies=[Depends(require_scope("read"))],
                   responses=schemas.error_responses(401, 403))


@router.get("/secret", response_model=schemas.WebhookSecrets, operation_id="getWebhookSecret",
            summary="The signing secrets of the caller's webhooks (made on first use)")
def get_secret(caller: Caller, session: DbSession) -> schemas.WebhookSecrets:
    return schemas.WebhookSecrets(subscriber=caller.name, secrets=webhooks.ensure_secret(session, caller.name))


@router.post("/secret/rotate", response_model=schemas.WebhookSecrets, operation_id="rotateWebhookSecret",
             dependencies=[Depends(require_scope("submit"))],
             summary="A new signing secret; the previous one signs too until service.callbacks.secret_overlap_s")
def rotate_secret(caller: Caller, session: DbSession) -> schemas.WebhookSecrets:
    overlap = timedelta(seconds=serviceconfig.load().callbacks.secret_overlap_s)
    webhooks.rotate(session, caller.name, overlap)
    return schemas.WebhookSecrets(subscriber=caller.name, secrets=webhooks.live_secrets(session, caller.name))


@router.get("/deliveries", response_model=schemas.DeliveryPage, operation_id="listWebhookDeliveries",
            responses=schemas.error_responses(422), summary="Deliveries, newest first (the caller's; admin: all)")
def list_deliveries(caller: Caller, session: DbSession,
                    job_id: Annotated[str | None, Query(max_length=64)] = None,
                    state: Literal["pending", "delivered", "failed"] | None = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    cursor: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$")] = None
                    ) -> schemas.DeliveryPage:
    subscriber = None if caller.may("admin") else caller.name
    rows = webhooks.deliveries(session, subscriber, job_id, state, limit + 1, int(cursor) if cursor else None)
    items = [_out(r) for r in rows[:limit]]
    return schemas.DeliveryPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)


@router.get("/deliveries/{delivery_id}", response_model=schemas.DeliveryDetail, operation_id="getWebhookDelivery",
            responses=schemas.error_responses(404, 422), summary="One delivery with its attempts")
def get_delivery(delivery_id: DeliveryId, caller: Caller, session: DbSession) -> schemas.DeliveryDetail:
    row = _visible(session, delivery_id, caller)
    attempts = [schemas.AttemptOut(attempted_at=a.attempted_at, status_code=a.status_code, error=a.error,
                                   duration_ms=a.duration_ms) for a in webhooks.attempts_of(session, row.id)]
    return schemas.DeliveryDetail(**_out(row).model_dump(), body=row.body, attempts_log=attempts)


@router.post("/deliveries/{delivery_id}/redeliver", status_code=202, response_model=schemas.DeliveryOut,
             operation_id="redeliverWebhook", dependencies=[Depends(require_scope("submit"))],
             responses=schemas.error_responses(404, 422, 503),
             summary="Send a delivery again: the same webhook-id and body, a fresh timestamp and signature")
async def redeliver(delivery_id: DeliveryId, caller: Caller, session: DbSession) -> schemas.DeliveryOut:
    row = _out(_visible(session, delivery_id, caller))
    try:
        await run_in_threadpool(farm_api.redeliver, delivery_id)  # committed, then queued
    except redis.RedisError as exc:
        log.warning("webhook delivery %s: the farm's Redis is unavailable: %s", delivery_id, exc)
        raise ApiError(503, "farm.unavailable", "the farm's queue is unavailable; try again later") from None
    return row.model_copy(update={"state": "pending"})


def _visible(session: DbSession, delivery_id: int, caller: Principal) -> WebhookDelivery:
    row = webhooks.get_delivery(session, delivery_id)
    if row is None or not (caller.may("admin") or row.subscriber == caller.name):
        raise ApiError(404, "delivery.not_found", f"no delivery {delivery_id}")
    return row


def _out(row: WebhookDelivery) -> schemas.DeliveryOut:
    return schemas.DeliveryOut(id=row.id, event_id=row.event_id, event_type=row.event_type, job_id=row.job_id,
                               subscriber=row.subscriber, url=row.url, state=row.state, attempts=row.attempts,
                               last_status=row.last_status, last_error=row.last_error, created_at=row.created_at,
                               last_attempt_at=row.last_attempt_at)
