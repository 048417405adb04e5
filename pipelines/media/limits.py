"""The server's safety limits and input rules (config/server.yaml), never a profile's.

A profile travels with a job and may come from a submitter; what keeps a worker safe
(picture size, duration, total decode work, stream counts, which demuxers and protocols
ffmpeg may use) comes only from this installation's configuration.
`LESSONQC_SERVER_CONFIG` names a YAML file overriding any subset of config/server.yaml.
"""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from pydantic import Field

from config import CONFIG_DIR
from pipelines.settings import files
from pipelines.settings.base import Count, NonNegative, Positive, Section, Seconds, Size, section

SERVER_CONFIG = CONFIG_DIR / "server.yaml"
SERVER_CONFIG_ENV = "LESSONQC_SERVER_CONFIG"


@section
class Safety(Section):
    """Limits checked from the probe, before anything decodes the whole file."""

    max_width: Size
    max_height: Size
    min_width: Size
    min_height: Size
    max_duration_s: Positive
    max_size_bytes: Size
    max_fps: Positive
    max_pixel_frames: Positive
    max_streams: Size
    max_video_streams: Size
    max_audio_streams: Size
    probe_timeout_s: Positive
    scan_timeout_s: Positive
    log_tail_lines: Size
    decode_error_sample: Count
    embedded_speech_segment_s: Positive
    frames_ahead: Size


@section
class Inputs(Section):
    """What ffmpeg and ffprobe may open: protocols and demuxers (format names)."""

    protocols: tuple[str, ...]
    formats: tuple[str, ...]


@section
class FarmLimits(Section):
    """Bounds on the farm's messages that a profile cannot raise."""

    max_time_limit_s: Positive
    max_crashes: Size
    sweep_interval_s: Positive
    redrives: Count
    recover_after_s: Seconds
    clock_refresh_s: Positive
    orphan_check_s: Positive
    redis_timeout_s: Positive
    redis_connect_timeout_s: Positive


@section
class ServerConfig(Section):
    safety: Safety
    inputs: Inputs
    farm: FarmLimits
    ceilings: dict[str, NonNegative] = Field(alias="profile_ceilings")  # dotted profile key -> the most a profile may set


def server() -> ServerConfig:
    """The server configuration (defaults overlaid with LESSONQC_SERVER_CONFIG), loaded once per value."""
    return _load(os.environ.get(SERVER_CONFIG_ENV, ""))


@lru_cache(maxsize=4)
def _load(override: str) -> ServerConfig:
    return files.load(ServerConfig, SERVER_CONFIG, override)


def over_ceiling(data: dict[str, Any]) -> list[str]:
    """Profile keys of `data` set above this server's ceilings, described."""
    out = []
    for dotted, ceiling in server().ceilings.items():
        value: Any = data
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and value > ceiling:
            out.append(f"'{dotted}' is {value}, above this server's ceiling {ceiling:g} (server.yaml profile_ceilings)")
    return out


def input_guard() -> list[str]:
    """Options that go before every ffmpeg/ffprobe input: allowed protocols and demuxers only."""
    rules = server().inputs
    return ["-protocol_whitelist", ",".join(rules.protocols), "-format_whitelist", ",".join(rules.formats)]
