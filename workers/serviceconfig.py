"""Settings of the HTTP API and the callbacks: config/service.yaml, a LESSONQC_SERVICE_CONFIG overlay, env."""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from config import CONFIG_DIR
from pipelines.errors import ProfileError

CONFIG_ENV = "LESSONQC_SERVICE_CONFIG"
HOSTS_ENV = "LESSONQC_CALLBACK_HOSTS"
SECRET_ENV = "LESSONQC_CALLBACK_SECRET"
PUBLIC_URL_ENV = "LESSONQC_PUBLIC_URL"


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


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot read service settings: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: service settings must be a mapping")
    return data


def _overlay(base: dict[str, Any], over: dict[str, Any], source: str, prefix: str = "") -> None:
    for key, value in over.items():
        if key not in base:
            raise ProfileError(f"{source}: unknown key '{prefix}{key}'")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ProfileError(f"{source}: key '{prefix}{key}' must be a mapping")
            _overlay(base[key], value, source, f"{prefix}{key}.")
        elif type(base[key]) is not type(value) and not (isinstance(base[key], (int, float)) and isinstance(value, (int, float))):
            raise ProfileError(f"{source}: key '{prefix}{key}' must be {type(base[key]).__name__}")
        else:
            base[key] = value


@lru_cache(maxsize=1)
def load() -> ServiceSettings:
    """The validated settings (cached: environment read once per process)."""
    data = copy.deepcopy(_read(CONFIG_DIR / "service.yaml"))
    if os.environ.get(CONFIG_ENV):
        _overlay(data, _read(Path(os.environ[CONFIG_ENV])), os.environ[CONFIG_ENV])
    s = data["service"]
    extra = [h.strip().lower() for h in os.environ.get(HOSTS_ENV, "").split(",") if h.strip()]
    cb = s["callbacks"]
    return ServiceSettings(
        int(s["uploads"]["max_bytes"]), str(s["uploads"]["folder"]), int(s["uploads"]["chunk_bytes"]),
        int(s["paging"]["default_limit"]), int(s["paging"]["max_limit"]),
        Callbacks(tuple(h.lower() for h in cb["allowed_hosts"]) + tuple(extra), tuple(cb["schemes"]),
                  float(cb["timeout_s"]), int(cb["retries"]), float(cb["min_backoff_s"]), float(cb["max_backoff_s"]),
                  str(cb["signature_header"])),
        os.environ.get(PUBLIC_URL_ENV) or str(s["public_url"]))
