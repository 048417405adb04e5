"""Webhooks in the index: each subscriber's signing secrets (with rotation) and the delivery log.

A subscriber is the API token name that submitted the job (`default` for jobs submitted without
one). A delivery is one event (`report.published`, `review.decided`) for one subscriber: its
`event_id` and body are fixed when the event happens, so every attempt and every redelivery sends
the same `webhook-id` and body. Each POST is one attempt row.
"""
from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import String, cast, exists, literal, or_, select, update
from sqlalchemy.orm import Session

from .models import Job, WebhookAttempt, WebhookDelivery, WebhookSecret, utcnow
from .review import Decision

SECRET_PREFIX = "whsec_"
DEFAULT_SUBSCRIBER = "default"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
REPORT_PUBLISHED, REVIEW_DECIDED = "report.published", "review.decided"


def subscriber_of(submitted_by: str | None) -> str:
    """Whose secret signs a job's events: the submitting token's name, else the default subscriber."""
    return submitted_by or DEFAULT_SUBSCRIBER


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def live_secrets(session: Session, subscriber: str) -> list[str]:
    """The subscriber's secrets valid now, newest first (two during a rotation)."""
    rows = session.scalars(select(WebhookSecret.secret).where(
        WebhookSecret.subscriber == subscriber,
        or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > utcnow()))
        .order_by(WebhookSecret.created_at.desc(), WebhookSecret.id.desc())).all()
    return list(rows)


def ensure_secret(session: Session, subscriber: str) -> list[str]:
    """The live secrets of `subscriber`, making its first one when it has none."""
    found = live_secrets(session, subscriber)
    if found:
        return found
    secret = new_secret()
    session.add(WebhookSecret(subscriber=subscriber, secret=secret))
    session.flush()
    return [secret]


def rotate(session: Session, subscriber: str, overlap: timedelta) -> str:
    """A new secret for `subscriber`; the ones in force stay valid for `overlap`, then expire."""
    until = utcnow() + overlap
    session.execute(update(WebhookSecret).where(
        WebhookSecret.subscriber == subscriber,
        or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > until)).values(expires_at=until))
    secret = new_secret()
    session.add(WebhookSecret(subscriber=subscriber, secret=secret))
    session.flush()
    return secret


def new_event_id() -> str:
    return "msg_" + secrets.token_hex(16)


def decision_event_id(decision_id: int) -> str:
    """A review.decided event's id, fixed by its decision: recorded once however often it is re-driven."""
    return f"msg_decision_{decision_id}"


def add_delivery(session: Session, event_type: str, job_id: str, subscriber: str, url: str,
                 body: str, event_id: str | None = None) -> WebhookDelivery:
    """Record an event for a subscriber (pending); its id and body never change afterwards."""
    row = WebhookDelivery(event_id=event_id or new_event_id(), event_type=event_type, job_id=job_id,
                          subscriber=subscriber, url=url, body=body, state=PENDING, attempts=0)
    session.add(row)
    session.flush()
    return row


def report_delivery(session: Session, job_id: str) -> WebhookDelivery | None:
    """The job's report.published delivery, if one was recorded (a re-published report reuses it)."""
    return session.scalar(select(WebhookDelivery).where(WebhookDelivery.job_id == job_id,
                                                        WebhookDelivery.event_type == REPORT_PUBLISHED)
                          .order_by(WebhookDelivery.id).limit(1))


def get_delivery(session: Session, delivery_id: int) -> WebhookDelivery | None:
    return session.get(WebhookDelivery, delivery_id)


@dataclass(frozen=True)
class Attempt:
    """The outcome of one POST: the answer's status (None: no answer) or the error, and the state it leaves."""

    state: str
    status_code: int | None = None
    error: str | None = None
    duration_ms: float = 0.0


def record_attempt(session: Session, delivery_id: int, attempt: Attempt) -> None:
    """Log one attempt and move the delivery (and a report delivery's job) to `attempt.state`."""
    now = utcnow()
    session.add(WebhookAttempt(delivery_id=delivery_id, attempted_at=now, status_code=attempt.status_code,
                               error=attempt.error, duration_ms=attempt.duration_ms))
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(
        attempts=WebhookDelivery.attempts + 1, state=attempt.state, last_status=attempt.status_code,
        last_error=attempt.error, last_attempt_at=now))
    _mirror_on_job(session, delivery_id)


def give_up(session: Session, delivery_id: int, reason: str) -> bool:
    """A pending delivery that ran out of retries becomes failed; False when it was no longer pending."""
    result = session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                           WebhookDelivery.state == PENDING)
                             .values(state=FAILED, last_error=reason))
    _mirror_on_job(session, delivery_id)
    return bool(result.rowcount)


def requeue(session: Session, delivery_id: int) -> WebhookDelivery | None:
    """Make a delivery pending again for a redelivery (same id and body); None when unknown."""
    row = session.get(WebhookDelivery, delivery_id)
    if row is not None:
        row.state = PENDING
        session.flush()
        _mirror_on_job(session, delivery_id)
    return row


def _mirror_on_job(session: Session, delivery_id: int) -> None:
    """jobs.callback_state/attempts/error follow the job's report.published delivery (GET /jobs/{id})."""
    row = session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if row is None or row.event_type != REPORT_PUBLISHED:
        return
    session.execute(update(Job).where(Job.id == row.job_id).values(
        callback_state=row.state, callback_attempts=row.attempts, callback_error=row.last_error))


def deliveries(session: Session, subscriber: str | None, job_id: str | None, state: str | None,
               limit: int, before_id: int | None) -> Sequence[WebhookDelivery]:
    """Deliveries newest first (keyset on id), optionally of one subscriber, job or state."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    for column, value in ((WebhookDelivery.subscriber, subscriber), (WebhookDelivery.job_id, job_id),
                          (WebhookDelivery.state, state)):
        if value is not None:
            query = query.where(column == value)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    return session.scalars(query).all()


def attempts_of(session: Session, delivery_id: int) -> Sequence[WebhookAttempt]:
    return session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
                           .order_by(WebhookAttempt.id)).all()



def by_event_id(session: Session, event_id: str) -> WebhookDelivery | None:
    return session.scalar(select(WebhookDelivery).where(WebhookDelivery.event_id == event_id))


def unrecorded_decisions(session: Session, since: datetime, before: datetime, limit: int = 200) -> list[tuple[str, int]]:
    """(job id, decision id) of decisions made in [since, before) on jobs that named a callback URL whose
    review.decided event was never recorded (the index was away right after the decision committed)."""
    recorded = select(WebhookDelivery.id).where(
        WebhookDelivery.event_id == literal("msg_decision_").concat(cast(Decision.id, String)))
    query = (select(Decision.job_id, Decision.id).join(Job, Job.id == Decision.job_id)
             .where(Job.callback_url.is_not(None), Decision.created_at >= since, Decision.created_at < before,
                    ~exists(recorded)).order_by(Decision.id).limit(limit))
    return [(job_id, decision_id) for job_id, decision_id in session.execute(query)]

