"""Settings of the HTTP API and the callbacks: config/service.yaml, a LESSONQC_SERVICE_CONFIG overlay, env."""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from config import CONFIG_DIR
from pipelines.media.limits import overlay, read_settings

CONFIG_ENV = "LESSONQC_SERVICE_CONFIG"
HOSTS_ENV = "LESSONQC_CALLBACK_HOSTS"
SECRET_ENV = "LESSONQC_CALLBACK_SECRET"
PUBLIC_URL_ENV = "LESSONQC_PUBLIC_URL"
PROXIES_ENV = "LESSONQC_TRUSTED_PROXIES"


@dataclass(frozen=True)
class Callbacks:
    allowed_hosts: tuple[str, ...]
    schemes: tuple[str, ...]
    timeout_s: float
    retries: int
    min_backoff_s: float
    max_backoff_s: float
    signature_header: str


@dataclass(frozen=True)
class ServiceSettings:
    upload_max_bytes: int
    upload_folder: str
    chunk_bytes: int
    default_limit: int
    max_limit: int
    callbacks: Callbacks
    public_url: str
    trusted_proxies: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def load() -> ServiceSettings:
    """The validated settings (cached: environment read once per process)."""
    data = copy.deepcopy(read_settings(CONFIG_DIR / "service.yaml", "service settings"))
    if os.environ.get(CONFIG_ENV):
        overlay(data, read_settings(Path(os.environ[CONFIG_ENV]), "service settings"), os.environ[CONFIG_ENV])
    s = data["service"]
    extra = [h.strip().lower() for h in os.environ.get(HOSTS_ENV, "").split(",") if h.strip()]
    cb = s["callbacks"]
    return ServiceSettings(
        int(s["uploads"]["max_bytes"]), str(s["uploads"]["folder"]), int(s["uploads"]["chunk_bytes"]),
        int(s["paging"]["default_limit"]), int(s["paging"]["max_limit"]),
        Callbacks(tuple(h.lower() for h in cb["allowed_hosts"]) + tuple(extra), tuple(cb["schemes"]),
                  float(cb["timeout_s"]), int(cb["retries"]), float(cb["min_backoff_s"]), float(cb["max_backoff_s"]),
                  str(cb["signature_header"])),
        os.environ.get(PUBLIC_URL_ENV) or str(s["public_url"]),
        tuple(str(p) for p in s["trusted_proxies"]) + _listed(os.environ.get(PROXIES_ENV, "")))


def _listed(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())
