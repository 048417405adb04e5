"""Farm settings: the profile's `farm` section (config/defaults/farm.yaml) plus environment overrides."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines import profile as profiles
from pipelines.errors import ProfileError
from pipelines.profile import Profile
from pipelines.settings.base import validated
from pipelines.settings.profile import Farm

QUEUES = ("probe", "media", "ocr", "speech", "report", "callback")
STAGE_QUEUES = ("media", "ocr", "speech")  # queues that run analysis tasks
SEGMENT_ENV = "LESSONQC_SEGMENT_S"
REPORT_DIR_ENV = "LESSONQC_REPORT_DIR"


@dataclass(frozen=True)
class FarmSettings:
    """How a job fans out: segment length, which stages split, each stage's queue, limits."""

    segment_s: float
    min_tail_s: float
    segmented: tuple[str, ...]
    queues: dict[str, str]
    default_queue: str
    time_limit_base_s: float
    time_limit_per_media_s: float
    retries: int
    min_backoff_s: float
    max_backoff_s: float
    state_ttl_s: int

    def queue_of(self, stage: str) -> str:
        return self.queues.get(stage, self.default_queue)

    def time_limit_ms(self, media_s: float) -> int:
        """Per-message time limit sized from the seconds of media the message covers."""
        return int(1000 * (self.time_limit_base_s + self.time_limit_per_media_s * max(0.0, media_s)))


def from_dict(farm: dict[str, Any]) -> FarmSettings:
    """Settings from a `farm` mapping, validated as the profile's farm section."""
    return from_section(validated(Farm, farm, "farm settings"))


def for_profile(profile: Profile) -> FarmSettings:
    return from_section(profile.farm)


def defaults() -> FarmSettings:
    """Settings from config/defaults (actor-level options: retries, backoff)."""
    return from_dict(profiles.defaults()["farm"])


def from_section(farm: Farm) -> FarmSettings:
    """Settings from a profile's typed `farm` section; LESSONQC_SEGMENT_S overrides segment_s."""
    settings = FarmSettings(
        _segment_s(farm.segment_s), farm.min_tail_s, tuple(farm.segmented), dict(farm.queues), farm.default_queue,
        farm.time_limit.base_s, farm.time_limit.per_media_s, farm.retries, farm.min_backoff_s, farm.max_backoff_s,
        farm.state_ttl_s)
    _validate(settings)
    return settings


def _segment_s(profile_value: float) -> float:
    try:
        return float(os.environ.get(SEGMENT_ENV) or profile_value)
    except ValueError:
        raise ProfileError(f"{SEGMENT_ENV} must be a number of seconds") from None


def _validate(settings: FarmSettings) -> None:
    bad = [q for q in [*settings.queues.values(), settings.default_queue] if q not in STAGE_QUEUES]
    if bad:
        raise ProfileError(f"farm.queues: unknown stage queue(s) {', '.join(bad)} (one of {', '.join(STAGE_QUEUES)})")
    if settings.segment_s <= 0:
        raise ProfileError(f"farm.segment_s must be positive ({SEGMENT_ENV} included)")


def report_root() -> Path:
    """The report store folder (LESSONQC_REPORT_DIR, default ./lessonqc-reports)."""
    return Path(os.environ.get(REPORT_DIR_ENV) or "lessonqc-reports").expanduser().resolve()
