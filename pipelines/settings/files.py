"""Installation settings files (config/server.yaml, service.yaml, console.yaml): a YAML file of
defaults, overlaid by an optional file of the operator's, validated into a typed model."""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml

from pipelines.errors import ProfileError
from pipelines.settings.base import Location, validated

T = TypeVar("T")


def load(model: type[T], path: Path, override: str = "", what: str = "server configuration") -> T:
    """`path` overlaid with the file `override` names (when set), as `model`.

    A ProfileError names the file that set a bad key: the override when it holds the key, else `path`.
    """
    data = read_settings(path, what)
    extra = read_settings(Path(override), what) if override else {}
    overlay(data, extra, override)
    return validated(model, data, lambda loc: override if _holds(extra, loc) else str(path))


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


def _holds(data: dict[str, Any], loc: Location) -> bool:
    """Whether `data` sets the key at `loc` (or a mapping above it)."""
    value: Any = data
    for part in loc:
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True
