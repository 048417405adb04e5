"""Where the farm's Redis is, and the key prefixes its queues and job state use (environment)."""
from __future__ import annotations

import os

import redis

REDIS_URL_ENV = "LESSONQC_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    return os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL


def namespace() -> str:
    return os.environ.get("LESSONQC_NAMESPACE") or "dramatiq"


def state_prefix() -> str:
    return os.environ.get("LESSONQC_STATE_PREFIX") or "lessonqc"


def redis_client(url: str | None = None) -> redis.Redis:
    """A text-mode client for the job state (same URL rules as the broker)."""
    return redis.Redis.from_url(url or redis_url(), decode_responses=True)
