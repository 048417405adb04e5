"""Settings of the HTTP API and the callbacks: config/service.yaml, a LESSONQC_SERVICE_CONFIG overlay, env."""
from __future__ import annotations

import os
from dataclasses import replace
from functools import lru_cache

from pydantic import field_validator

from config import CONFIG_DIR
from pipelines.settings import files
from pipelines.settings.base import Count, Flag, NonNegative, Positive, Seconds, Section, Size, section

CONFIG_ENV = "LESSONQC_SERVICE_CONFIG"
HOSTS_ENV = "LESSONQC_CALLBACK_HOSTS"
PUBLIC_URL_ENV = "LESSONQC_PUBLIC_URL"
PROXIES_ENV = "LESSONQC_TRUSTED_PROXIES"


@section
class Uploads(Section):
    max_bytes: Size
    folder: str
    chunk_bytes: Size


@section
class Paging(Section):
    default_limit: Size
    max_limit: Size


@section
class Callbacks(Section):
    allowed_hosts: tuple[str, ...]
    schemes: tuple[str, ...]
    timeout_s: Positive
    retries: Count
    min_backoff_s: NonNegative
    max_backoff_s: NonNegative
    secret_overlap_s: Seconds  # after a rotation the previous secret stays valid (and signs) this long
    redrive_window_s: Seconds  # the sweeper records decision events missed within this long (older: never)

    @field_validator("allowed_hosts")
    @classmethod
    def _lower(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(h.lower() for h in hosts)


@section
class Idempotency(Section):
    key_ttl_s: Positive
    wait_s: Seconds


@section
class Retention(Section):
    delete_upload: Flag
    delete_report: Flag


@section
class ServiceSettings(Section):
    uploads: Uploads
    paging: Paging
    callbacks: Callbacks
    public_url: str
    idempotency: Idempotency
    retention: Retention
    trusted_proxies: tuple[str, ...] = ()


@section
class ServiceFile(Section):
    service: ServiceSettings


@lru_cache(maxsize=1)
def load() -> ServiceSettings:
    """The validated settings (cached: environment read once per process).

    LESSONQC_CALLBACK_HOSTS (comma-separated) adds callback hosts; LESSONQC_PUBLIC_URL replaces public_url;
    LESSONQC_TRUSTED_PROXIES (comma-separated) adds trusted proxy addresses.
    """
    settings = files.load(ServiceFile, CONFIG_DIR / "service.yaml", os.environ.get(CONFIG_ENV, ""),
                          "service settings").service
    callbacks = replace(settings.callbacks,
                        allowed_hosts=settings.callbacks.allowed_hosts + _listed(os.environ.get(HOSTS_ENV, "").lower()))
    return replace(settings, callbacks=callbacks, public_url=os.environ.get(PUBLIC_URL_ENV) or settings.public_url,
                   trusted_proxies=settings.trusted_proxies + _listed(os.environ.get(PROXIES_ENV, "")))


def _listed(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())
