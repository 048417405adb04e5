"""Signed callbacks: which URLs a job may name, the summary it receives, the HMAC signature, one delivery.

The body is the JSON summary of a published report (job id, verdict, finding codes,
report URL); the header `X-LessonQC-Signature: sha256=<hex>` is HMAC-SHA256 of the exact
body bytes with LESSONQC_CALLBACK_SECRET. The farm's `callback` actor retries a failed
delivery with backoff; the report itself is already published and indexed by then.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any
from urllib.parse import urlsplit

import httpx

from pipelines.errors import LessonQCError

from .serviceconfig import SECRET_ENV, Callbacks


class CallbackRefused(LessonQCError):
    """A callback URL names a scheme or host that is not allowed (or no secret is configured)."""


class CallbackFailed(LessonQCError):
    """One delivery failed (network error or a non-2xx answer): retried with backoff."""


def secret() -> bytes:
    value = os.environ.get(SECRET_ENV, "")
    if not value:
        raise CallbackRefused(f"callbacks need a signing secret: set {SECRET_ENV}")
    return value.encode("utf-8")


def check_url(url: str, settings: Callbacks) -> str:
    """`url` when its scheme and host are allowed; CallbackRefused with the reason otherwise."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError as exc:
        raise CallbackRefused(f"callback URL is not a URL: {exc}") from None
    if parts.scheme not in settings.schemes:
        raise CallbackRefused(f"callback URL scheme '{parts.scheme}' not allowed ({', '.join(settings.schemes)})")
    if not host or host not in settings.allowed_hosts:
        raise CallbackRefused(f"callback host '{host}' is not in the allow-list (service.callbacks.allowed_hosts)")
    if parts.username or parts.password:
        raise CallbackRefused("callback URL must not carry credentials")
    secret()
    return url


def summary(doc: dict[str, Any], public_url: str) -> dict[str, Any]:
    """What a callback says about a published report."""
    codes = list(dict.fromkeys(f["code"] for f in doc.get("findings") or []))
    base = public_url.rstrip("/")
    return {"event": "report.published", "job_id": doc["job_id"], "verdict": doc["verdict"], "codes": codes,
            "source": doc["source"], "profile": doc["profile"], "created_at": doc["created_at"],
            "report_url": f"{base}/api/v1/jobs/{doc['job_id']}/report"}


def decision_summary(job_id: str, record: dict[str, Any], public_url: str) -> dict[str, Any]:
    """What a callback says when a review level decides (the record of GET /jobs/{id}/decisions)."""
    base = public_url.rstrip("/")
    return {"event": "review.decided", "job_id": job_id, "decision": record,
            "decisions_url": f"{base}/api/v1/jobs/{job_id}/decisions"}


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, key: bytes) -> str:
    """The signature header value: sha256=<hex HMAC-SHA256(key, body)>."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str, key: bytes) -> bool:
    """Constant-time check of a signature header (what a receiver does)."""
    return hmac.compare_digest(sign(body, key), header or "")


def deliver(url: str, payload: dict[str, Any], settings: Callbacks) -> int:
    """POST the signed payload once; return the status code; CallbackFailed unless 2xx."""
    check_url(url, settings)
    body = body_of(payload)
    headers = {"Content-Type": "application/json", settings.signature_header: sign(body, secret()),
               "User-Agent": "LessonQC-callback/1"}
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=settings.timeout_s, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise CallbackFailed(f"callback to {url}: {type(exc).__name__}: {exc}") from None
    if not 200 <= answer.status_code < 300:
        raise CallbackFailed(f"callback to {url}: HTTP {answer.status_code}")
    return answer.status_code
