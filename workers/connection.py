"""Where the farm's Redis is, and the key prefixes its queues and job state use (environment)."""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TypeVar

import redis

from pipelines.media.limits import server

REDIS_URL_ENV = "LESSONQC_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PATIENT_PAUSE_S = 1.0  # between tries of `patiently`
log = logging.getLogger(__name__)
T = TypeVar("T")


def redis_url() -> str:
    return os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL


def namespace() -> str:
    return os.environ.get("LESSONQC_NAMESPACE") or "dramatiq"


def state_prefix() -> str:
    return os.environ.get("LESSONQC_STATE_PREFIX") or "lessonqc"


def socket_options() -> dict[str, float | bool]:
    """Timeouts of every farm connection to Redis (config/server.yaml farm.redis_*): a Redis cut off by the
    network fails a call within seconds (the API answers 503, a worker retries) instead of leaving it
    blocked until TCP gives up. Options in the URL (`?socket_timeout=...`) win."""
    farm = server().farm
    return {"socket_timeout": farm.redis_timeout_s, "socket_connect_timeout": farm.redis_connect_timeout_s,
            "socket_keepalive": True}


def redis_client(url: str | None = None) -> redis.Redis:
    """A text-mode client for the job state (same URL rules as the broker)."""
    return redis.Redis.from_url(url or redis_url(), decode_responses=True, **socket_options())


def patiently(call: Callable[[], T], what: str) -> T:
    """`call()`, tried again every PATIENT_PAUSE_S while Redis does not answer (a connection error or a socket
    timeout). For a worker thread's bookkeeping after a step, which is lost if given up (as dramatiq retries
    an acknowledgement); never for the API, which answers 503 at once."""
    while True:
        try:
            return call()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("Redis does not answer (%s); %s again in %.0f s", exc, what, PATIENT_PAUSE_S)
            time.sleep(PATIENT_PAUSE_S)
