"""Console settings: config/console.yaml (every key with its default) plus environment overrides."""
from __future__ import annotations

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from config import CONFIG_DIR
from pipelines.settings import files
from pipelines.settings.base import Flag, Positive, Section, Size, section

SECURE_ENV = "LESSONQC_CONSOLE_SECURE_COOKIES"


@section
class Lockout(Section):
    max_failed: Size
    minutes: Positive


@section
class LoginRate(Section):
    per_client: Size
    window_s: Positive


@section
class QueuePaging(Section):
    page_size: Size
    max_page_size: Size
    choices_ttl_s: Positive


@section
class Argon2(Section):
    time_cost: Size
    memory_kib: Size
    parallelism: Size


@section
class ConsoleSection(Section):
    """The `console` mapping of config/console.yaml, as written."""

    session_hours: Positive
    secure_cookies: Flag
    min_password_length: Size
    note_max_chars: Size
    display_timezone: str
    lockout: Lockout
    login_rate: LoginRate
    queue: QueuePaging
    argon2: Argon2

    @field_validator("display_timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name


@section
class ConsoleFile(Section):
    console: ConsoleSection


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


def load() -> ConsoleSettings:
    """The validated settings of config/console.yaml (a missing, unknown or malformed key is a ProfileError
    naming the key); LESSONQC_CONSOLE_SECURE_COOKIES=1 forces Secure cookies."""
    c = files.load(ConsoleFile, CONFIG_DIR / "console.yaml", what="console settings").console
    secure = os.environ.get(SECURE_ENV, "").lower() in ("1", "true", "yes") or c.secure_cookies
    return ConsoleSettings(
        c.session_hours, secure, c.min_password_length, c.note_max_chars, c.display_timezone,
        c.lockout.max_failed, c.lockout.minutes, c.login_rate.per_client, c.login_rate.window_s,
        c.queue.page_size, c.queue.max_page_size, c.queue.choices_ttl_s,
        c.argon2.time_cost, c.argon2.memory_kib, c.argon2.parallelism)
