"""Console settings: config/console.yaml (every key with its default) plus environment overrides."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml

from config import CONFIG_DIR
from pipelines.errors import ProfileError

SECURE_ENV = "LESSONQC_CONSOLE_SECURE_COOKIES"


@dataclass(frozen=True)
class ConsoleSettings:
    """Session length, cookie flags, login throttling, queue paging and hashing cost."""

    session_hours: float
    secure_cookies: bool
    min_password_length: int
    note_max_chars: int
    display_timezone: str
    max_failed_logins: int
    lockout_minutes: float
    login_rate_per_client: int
    login_rate_window_s: float
    page_size: int
    max_page_size: int
    choices_ttl_s: float
    argon2_time_cost: int
    argon2_memory_kib: int
    argon2_parallelism: int


def from_dict(section: dict[str, Any]) -> ConsoleSettings:
    """Build settings from a `console` mapping; LESSONQC_CONSOLE_SECURE_COOKIES=1 forces Secure cookies."""
    secure = os.environ.get(SECURE_ENV, "").lower() in ("1", "true", "yes") or bool(section["secure_cookies"])
    lock, rate, queue, argon = section["lockout"], section["login_rate"], section["queue"], section["argon2"]
    return ConsoleSettings(
        float(section["session_hours"]), secure, int(section["min_password_length"]),
        int(section["note_max_chars"]), str(section["display_timezone"]),
        int(lock["max_failed"]), float(lock["minutes"]),
        int(rate["per_client"]), float(rate["window_s"]), int(queue["page_size"]), int(queue["max_page_size"]),
        float(queue["choices_ttl_s"]),
        int(argon["time_cost"]), int(argon["memory_kib"]), int(argon["parallelism"]))


def load() -> ConsoleSettings:
    """The validated settings of config/console.yaml (a missing or malformed key is a ProfileError)."""
    path = CONFIG_DIR / "console.yaml"
    try:
        return from_dict(yaml.safe_load(path.read_text(encoding="utf-8"))["console"])
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"{path}: invalid console settings: {exc!r}") from None
