"""Profiles: validated YAML data holding every threshold (none lives in code).

`config/defaults/*.yaml` list every allowed key with its default; a profile file
overrides any subset. Unknown keys and wrong types are refused, naming key and file.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from config import CONFIG_DIR
from pipelines.errors import ProfileError

PROFILES_DIR = CONFIG_DIR / "profiles"
DEFAULTS_DIR = CONFIG_DIR / "defaults"


class Section:
    """Read-only attribute view of one profile section (`profile.video.width`)."""

    def __init__(self, data: dict[str, Any], path: str = ""):
        self._data = data
        self._path = path

    def __getattr__(self, key: str) -> Any:
        try:
            value = self._data[key]
        except KeyError:
            raise AttributeError(f"profile has no key {self._path}{key}") from None
        return Section(value, f"{self._path}{key}.") if isinstance(value, dict) else value

    def __getitem__(self, key: str) -> Any:
        return self.__getattr__(key)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._data)


@dataclass(frozen=True)
class Profile:
    """A validated profile; attribute access goes to its sections."""

    name: str
    source: str
    data: dict[str, Any]

    def __getattr__(self, key: str) -> Any:
        if key in ("name", "source", "data"):
            raise AttributeError(key)
        return getattr(Section(self.data), key)

    def allows_language(self, kind: str, lang: str) -> bool:
        return lang in self.data["languages"][kind]


def available() -> list[str]:
    """Names of the built-in profiles."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load(name_or_path: str | Path, extra_languages: list[str] | None = None) -> Profile:
    """Load a built-in profile by name or a user YAML by path, validated against the defaults."""
    path = _resolve(name_or_path)
    merged = copy.deepcopy(defaults())
    _merge(merged, _read(path), str(path), "")
    for lang in extra_languages or []:
        for kind in ("speech", "text"):
            if lang not in merged["languages"][kind]:
                merged["languages"][kind].append(lang)
    return Profile(merged.get("name") or path.stem, str(path), merged)


_DEFAULTS: dict[str, Any] | None = None


def defaults() -> dict[str, Any]:
    """All default keys, merged from config/defaults/*.yaml (each file owns distinct top-level keys)."""
    global _DEFAULTS
    if _DEFAULTS is None:
        merged: dict[str, Any] = {}
        for path in sorted(DEFAULTS_DIR.glob("*.yaml")):
            for key, value in _read(path).items():
                if key in merged:
                    raise ProfileError(f"{path}: top-level key '{key}' is already defined in another defaults file")
                merged[key] = value
        _DEFAULTS = merged
    return _DEFAULTS


def _resolve(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise ProfileError(f"profile file not found: {candidate}")
        return candidate
    path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ProfileError(f"unknown profile '{name_or_path}' (built-in: {', '.join(available())})")
    return path


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot read profile: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile must be a mapping of keys")
    return data


def _merge(base: dict[str, Any], override: dict[str, Any], source: str, prefix: str) -> None:
    """Overlay `override` on `base` in place, refusing unknown keys and wrong types."""
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            raise ProfileError(f"{source}: unknown key '{dotted}'")
        default = base[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ProfileError(f"{source}: key '{dotted}' must be a mapping")
            _merge(default, value, source, dotted + ".")
            continue
        _check_type(dotted, default, value, source)
        base[key] = value


def _check_type(dotted: str, default: Any, value: Any, source: str) -> None:
    if default is None or value is None:
        return
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(default, bool) and isinstance(value, bool)
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float))
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ProfileError(f"{source}: key '{dotted}' must be {type(default).__name__}, got {type(value).__name__} ({value!r})")
