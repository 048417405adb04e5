"""Webhooks (Standard Webhooks): which URLs a job may name, the event bodies, the signed headers, one POST.

Every attempt carries `webhook-id` (the event's id: the same on every retry and redelivery),
`webhook-timestamp` (Unix seconds of this attempt, on the farm's clock: Redis's, not the sending host's,
so a worker whose clock is off does not send timestamps a receiver rejects as stale or future) and
`webhook-signature`: `v1,<base64 HMAC-SHA256 over "id.timestamp.body">` per live secret of the
subscriber, space-separated (two during a rotation). Signing uses the `standardwebhooks` library, which receivers can use to verify.
`post` never raises: it returns the attempt's outcome, the state it leaves and whether a retry may help.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from index.webhooks import DELIVERED, FAILED, PENDING, Attempt
from pipelines.errors import LessonQCError

from .serviceconfig import Callbacks

USER_AGENT = "LessonQC-webhook/2"
RETRY_STATUSES = frozenset({408, 425, 429})  # besides 5xx: answers that may change on a later attempt
ERROR_MAX_CHARS = 500


class CallbackRefused(LessonQCError):
    """A callback URL is malformed or names a scheme or host that is not allowed."""


class CallbackFailed(LessonQCError):
    """One attempt failed in a way a later attempt may not (network error, 5xx, 408/429): retried with backoff."""


def check_url(url: str, settings: Callbacks) -> str:
    """`url` when it is a plain URL whose scheme and host are allowed; CallbackRefused with the reason otherwise."""
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise CallbackRefused("callback URL must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise CallbackRefused(f"callback URL is not a URL: {exc}") from None
    if parts.scheme not in settings.schemes:
        raise CallbackRefused(f"callback URL scheme '{parts.scheme}' not allowed ({', '.join(settings.schemes)})")
    if not host or host not in settings.allowed_hosts:
        raise CallbackRefused(f"callback host '{host}' is not in the allow-list (service.callbacks.allowed_hosts)")
    if parts.username or parts.password:
        raise CallbackRefused("callback URL must not carry credentials")
    return url


def summary(doc: dict[str, Any], public_url: str) -> dict[str, Any]:
    """The `report.published` event's body: what a published report says."""
    codes = list(dict.fromkeys(f["code"] for f in doc.get("findings") or []))
    base = public_url.rstrip("/")
    return {"event": "report.published", "job_id": doc["job_id"], "verdict": doc["verdict"], "codes": codes,
            "source": doc["source"], "profile": doc["profile"], "created_at": doc["created_at"],
            "report_url": f"{base}/api/v1/jobs/{doc['job_id']}/report"}


def decision_summary(job_id: str, record: dict[str, Any], public_url: str) -> dict[str, Any]:
    """The `review.decided` event's body (the record of GET /jobs/{id}/decisions)."""
    base = public_url.rstrip("/")
    return {"event": "review.decided", "job_id": job_id, "decision": record,
            "decisions_url": f"{base}/api/v1/jobs/{job_id}/decisions"}


def body_of(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def signature(event_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> str:
    """The `webhook-signature` value: one `v1,<base64>` per secret, space-separated."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return " ".join(Webhook(secret).sign(event_id, moment, body) for secret in secrets)


def headers(event_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> dict[str, str]:
    """The headers of one attempt."""
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT, "webhook-id": event_id,
            "webhook-timestamp": str(timestamp), "webhook-signature": signature(event_id, timestamp, body, secrets)}


@dataclass(frozen=True)
class Delivery:
    """What one attempt sends: where, the event's fixed id and body, and the secrets that sign it now."""

    url: str
    event_id: str
    body: str
    secrets: tuple[str, ...]


def post(delivery: Delivery, settings: Callbacks, clock: Callable[[], float] = time.time) -> tuple[Attempt, bool]:
    """POST once, stamped by `clock` (epoch seconds); (the attempt's outcome, whether a later attempt may
    succeed). Never raises."""
    started = time.perf_counter()
    try:
        check_url(delivery.url, settings)
        sent = headers(delivery.event_id, int(clock()), delivery.body, delivery.secrets)
        answer = httpx.post(delivery.url, content=delivery.body.encode("utf-8"), headers=sent,
                            timeout=settings.timeout_s, follow_redirects=False)
    except CallbackRefused as exc:
        return Attempt(FAILED, None, str(exc), _ms(started)), False
    except httpx.TransportError as exc:  # DNS, refused, TLS, timeouts, protocol errors
        return Attempt(PENDING, None, _describe(exc), _ms(started)), True
    except (httpx.HTTPError, ValueError, OSError) as exc:  # an URL httpx cannot send, ...
        return Attempt(FAILED, None, _describe(exc), _ms(started)), False
    return _judged(answer.status_code, _ms(started))


def _judged(status: int, ms: float) -> tuple[Attempt, bool]:
    if 200 <= status < 300:
        return Attempt(DELIVERED, status, None, ms), False
    retry = status >= 500 or status in RETRY_STATUSES
    return Attempt(PENDING if retry else FAILED, status, f"HTTP {status}", ms), retry


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
