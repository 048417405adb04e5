"""Profiles: validated YAML data holding every threshold (none lives in code).

`config/defaults/*.yaml` list every allowed key with its default; a profile file
overrides any subset. The merged data is validated into the typed sections of
pipelines/settings/profile.py when it loads: an unknown key, a wrong type or a value out
of range is refused there, naming the key and the file.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import field, fields
from pathlib import Path
from typing import Any

import yaml

from config import CONFIG_DIR
from pipelines.errors import ProfileError
from pipelines.media import limits
from pipelines.settings.base import Location, section, validated
from pipelines.settings.profile import Sections

__all__ = ["Profile", "ProfileError", "available", "defaults", "load"]

PROFILES_DIR = CONFIG_DIR / "profiles"
DEFAULTS_DIR = CONFIG_DIR / "defaults"


@section
class Profile(Sections):
    """A validated profile: typed sections (`profile.speech.model`), plus where it came from.

    `data` is the same profile as plain merged YAML data (for code that hands a section on
    as a mapping, e.g. the model loader).
    """

    source: str = ""
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def allows_language(self, kind: str, lang: str) -> bool:
        return lang in getattr(self.languages, kind)


def available() -> list[str]:
    """Names of the built-in profiles."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load(name_or_path: str | Path, extra_languages: list[str] | None = None) -> Profile:
    """Load a built-in profile by name or a user YAML by path, validated against the defaults."""
    path = _resolve(name_or_path)
    merged = copy.deepcopy(defaults())
    _merge(merged, _read(path), str(path), [])
    for lang in extra_languages or []:
        for kind in ("speech", "text"):
            allowed = merged["languages"].get(kind) if isinstance(merged["languages"], dict) else None
            if isinstance(allowed, list) and lang not in allowed:  # anything else is refused when validated
                allowed.append(lang)
    return _profile(merged, str(path), merged.get("name") or path.stem)


def from_snapshot(data: dict[str, Any], name: str) -> Profile:
    """A profile from a validated snapshot (a farm job carries the one checked at submit).

    Checked again over the defaults: an unknown key is refused and a key added since is filled.
    """
    merged = copy.deepcopy(defaults())
    _merge(merged, copy.deepcopy(data), "job profile snapshot", [])
    return _profile(merged, "job profile snapshot", name)


def _profile(data: dict[str, Any], source: str | Callable[[Location], str], name: str) -> Profile:
    sections = validated(Sections, data, source)
    if above := limits.over_ceiling(data):
        raise ProfileError(f"{source if isinstance(source, str) else 'profile'}: {'; '.join(above)}")
    values = {f.name: getattr(sections, f.name) for f in fields(Sections)}
    return Profile(**{**values, "name": name}, source=source if isinstance(source, str) else "", data=data)


_DEFAULTS: dict[str, Any] | None = None


def defaults() -> dict[str, Any]:
    """All default keys, merged from config/defaults/*.yaml (each file owns distinct top-level keys).

    Validated once against the typed sections: a defaults file that misses a key the code
    reads, or holds one it does not, is refused here, naming the file.
    """
    global _DEFAULTS
    if _DEFAULTS is None:
        merged: dict[str, Any] = {}
        owner: dict[str, str] = {}
        for path in sorted(DEFAULTS_DIR.glob("*.yaml")):
            for key, value in _read(path).items():
                if key in merged:
                    raise ProfileError(f"{path}: top-level key '{key}' is already defined in {owner[key]}")
                merged[key], owner[key] = value, str(path)
        try:
            _profile(merged, lambda loc: owner.get(str(loc[0]) if loc else "", str(DEFAULTS_DIR)), "default")
        except ProfileError as err:
            raise ProfileError(f"{err} (a defaults key and its typed model in pipelines/settings/profile.py go together)") from None
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
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read profile: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML{_where(exc)}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile must be a mapping of keys")
    return data


def _where(exc: yaml.YAMLError) -> str:
    """Where a YAML error is (line, column) without echoing the file's text into a report."""
    mark = getattr(exc, "problem_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _merge(base: dict[str, Any], override: dict[str, Any], source: str, path: list[str]) -> None:
    """Overlay `override` on `base` in place: mappings merge key by key, other values replace.

    A key the defaults do not hold is added as given: the sections refuse it unless it sits in
    a mapping that takes keys of its own (a transcription prompt per language, a title-card
    field). Types and ranges are checked when the result is validated into sections.
    """
    for key, value in override.items():
        if key not in base:
            base[key] = copy.deepcopy(value)
            continue
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ProfileError(f"{source}: key '{'.'.join([*path, str(key)])}' must be a mapping")
            _merge(base[key], value, source, [*path, str(key)])
            continue
        base[key] = value
