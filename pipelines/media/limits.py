"""The server's safety limits and input rules (config/server.yaml), never a profile's.

A profile travels with a job and may come from a submitter; what keeps a worker safe
(picture size, duration, total decode work, stream counts, which demuxers and protocols
ffmpeg may use) comes only from this installation's configuration.
`LESSONQC_SERVER_CONFIG` names a YAML file overriding any subset of config/server.yaml.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from config import CONFIG_DIR
from pipelines.errors import ProfileError

SERVER_CONFIG = CONFIG_DIR / "server.yaml"
SERVER_CONFIG_ENV = "LESSONQC_SERVER_CONFIG"


@dataclass(frozen=True)
class Safety:
    """Limits checked from the probe, before anything decodes the whole file."""

    max_width: int
    max_height: int
    min_width: int
    min_height: int
    max_duration_s: float
    max_size_bytes: int
    max_fps: float
    max_pixel_frames: float
    max_streams: int
    max_video_streams: int
    max_audio_streams: int
    probe_timeout_s: float
    scan_timeout_s: float
    log_tail_lines: int
    decode_error_sample: int
    embedded_speech_segment_s: float
    frames_ahead: int


@dataclass(frozen=True)
class Inputs:
    """What ffmpeg and ffprobe may open: protocols and demuxers (format names)."""

    protocols: tuple[str, ...]
    formats: tuple[str, ...]


@dataclass(frozen=True)
class FarmLimits:
    """Bounds on the farm's messages that a profile cannot raise."""

    max_time_limit_s: float
    max_crashes: int
    sweep_interval_s: float
    redrives: int
    recover_after_s: float
    clock_refresh_s: float
    redis_timeout_s: float
    redis_connect_timeout_s: float


@dataclass(frozen=True)
class ServerConfig:
    safety: Safety
    inputs: Inputs
    farm: FarmLimits
    ceilings: dict[str, float]  # dotted profile key -> the most a profile may set


def server() -> ServerConfig:
    """The server configuration (defaults overlaid with LESSONQC_SERVER_CONFIG), loaded once per value."""
    return _load(os.environ.get(SERVER_CONFIG_ENV, ""))


@lru_cache(maxsize=4)
def _load(override: str) -> ServerConfig:
    data = read_settings(SERVER_CONFIG)
    if override:
        overlay(data, read_settings(Path(override)), override)
    return ServerConfig(Safety(**data["safety"]), Inputs(tuple(data["inputs"]["protocols"]),
                                                         tuple(data["inputs"]["formats"])),
                        FarmLimits(**data["farm"]), dict(data["profile_ceilings"]))


def read_settings(path: Path, what: str = "server configuration") -> dict[str, Any]:
    """A settings YAML file as a mapping (ProfileError naming the file otherwise)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot read {what} ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: the {what} must be a mapping of keys")
    return data


def overlay(base: dict[str, Any], override: dict[str, Any], source: str, prefix: str = "") -> None:
    """Set `override`'s keys into `base` in place: only keys `base` has, each of its type (int for float allowed)."""
    for key, value in override.items():
        if key not in base:
            raise ProfileError(f"{source}: unknown key '{prefix}{key}'")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ProfileError(f"{source}: key '{prefix}{key}' must be a mapping")
            overlay(base[key], value, source, f"{prefix}{key}.")
        elif not _same_kind(base[key], value):
            raise ProfileError(f"{source}: key '{prefix}{key}' must be {type(base[key]).__name__}")
        else:
            base[key] = value


def _same_kind(default: Any, value: Any) -> bool:
    """`value` may replace `default`: the same type, or any number for a number (a bool only for a bool)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return type(default) is type(value)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


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
