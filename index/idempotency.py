"""`Idempotency-Key` of job creation: the first request with a key claims it for the job it will make;
a retry with the same key and request gets that job, one with another request is refused.

A claim is an INSERT on the unique (caller, key): of N concurrent requests exactly one inserts,
the others read its row. A submission that fails releases its claim, so a retry can try again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from .db import Database
from .models import IdempotencyKey, utcnow

PENDING, DONE = "pending", "done"


class KeyReused(Exception):
    """The key was used before with a different request."""


class StillRunning(Exception):
    """The key's first request is still being submitted (it neither finished nor failed in time)."""


@dataclass(frozen=True)
class Claim:
    """The job a key stands for; `fresh` when this request claimed it (and must submit it)."""

    job_id: str
    fresh: bool


def claim(db: Database, caller: str, key: str, fingerprint: str, job_id: str, ttl: timedelta) -> Claim:
    """Claim `key` for `job_id`, or the earlier claim of the same request; KeyReused for another request."""
    for _ in range(2):
        try:
            with db.session() as session:
                session.add(IdempotencyKey(caller=caller, key=key, fingerprint=fingerprint, job_id=job_id,
                                           state=PENDING))
            return Claim(job_id, True)
        except IntegrityError:
            earlier = _earlier(db, caller, key, ttl)
            if earlier is None:  # expired and removed (or released meanwhile): claim again
                continue
            if earlier.fingerprint != fingerprint:
                raise KeyReused(f"Idempotency-Key '{key}' was used with a different request") from None
            return Claim(earlier.job_id, False)
    raise StillRunning(f"Idempotency-Key '{key}' is being claimed concurrently; retry")


def _earlier(db: Database, caller: str, key: str, ttl: timedelta) -> IdempotencyKey | None:
    with db.session() as session:
        row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key))
        if row is not None and row.created_at < utcnow() - ttl:
            session.delete(row)
            return None
        return row


def complete(db: Database, caller: str, key: str) -> None:
    """The claimed request made its job."""
    with db.session() as session:
        session.execute(update(IdempotencyKey).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
                        .values(state=DONE))


def release(db: Database, caller: str, key: str) -> None:
    """The claimed request failed: forget the key so that a retry submits again."""
    with db.session() as session:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key,
                                                     IdempotencyKey.state == PENDING))


def wait_done(db: Database, caller: str, key: str, timeout_s: float, poll_s: float = 0.05) -> bool:
    """Wait for the key's first request to finish: True when it made its job, False when it failed;
    StillRunning after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        with db.session() as session:
            state = session.scalar(select(IdempotencyKey.state).where(IdempotencyKey.caller == caller,
                                                                      IdempotencyKey.key == key))
        if state != PENDING:
            return state == DONE
        if time.monotonic() > deadline:
            raise StillRunning(f"Idempotency-Key '{key}': the first request is still being submitted; retry")
        time.sleep(poll_s)
