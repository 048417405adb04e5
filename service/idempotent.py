"""`Idempotency-Key` on POST /api/v1/jobs: the first request with a key submits; a retry with the same key
and the same request gets the job the first one made (200), a request that differs gets 409.

The request's fingerprint is the sha256 of its canonical JSON, or of an upload's form fields and file
checksum. A retry arriving while the first is still submitting waits for it (service.idempotency.wait_s).
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any, Callable

from index import idempotency
from workers import serviceconfig

from .deps import database
from .errors import ApiError

HEADER = "Idempotency-Key"
KEY = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces (Stripe's and the IETF draft's keys fit)


def checked_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not KEY.fullmatch(value):
        raise ApiError(400, "idempotency.bad_key", f"{HEADER} must be 1-200 printable ASCII characters")
    return value


def fingerprint(request: dict[str, Any], media_sha256: str | None = None) -> str:
    """The sha256 of what the request asks (its fields in canonical JSON, and an upload's checksum)."""
    canonical = json.dumps({"request": request, "media_sha256": media_sha256}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def once(caller: str, key: str, digest: str, job_id: str, submit: Callable[[], Any],
         replay: Callable[[str], Any]) -> tuple[Any, bool]:
    """(submit(), True) when this request holds the key; (replay(earlier job id), False) for a retry.
    Runs in a worker thread (it may wait for a concurrent first request)."""
    config = serviceconfig.load().idempotency
    ttl = timedelta(seconds=config.key_ttl_s)
    while True:
        try:
            claim = idempotency.claim(database(), caller, key, digest, job_id, ttl)
            if claim.fresh:
                return _first(caller, key, submit), True
            if idempotency.wait_done(database(), caller, key, config.wait_s):
                return replay(claim.job_id), False
        except idempotency.KeyReused as exc:
            raise ApiError(409, "idempotency.key_reused", str(exc)) from None
        except idempotency.StillRunning as exc:
            raise ApiError(409, "idempotency.in_progress", str(exc)) from None
        # the first request failed and released the key: this one claims it now


def _first(caller: str, key: str, submit: Callable[[], Any]) -> Any:
    try:
        created = submit()
    except BaseException:
        idempotency.release(database(), caller, key)
        raise
    idempotency.complete(database(), caller, key)
    return created
