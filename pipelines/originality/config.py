"""The originality settings (config/originality.yaml), validated when first read."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config import CONFIG_DIR
from pipelines.errors import ProfileError
from pipelines.settings.files import read_settings

ORIGINALITY_CONFIG = CONFIG_DIR / "originality.yaml"
ORIGINALITY_CONFIG_ENV = "LESSONQC_ORIGINALITY_CONFIG"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Picture(_Strict):
    thumb_height: int = Field(ge=16)
    border_std: float = Field(ge=0)
    max_border_share: float = Field(ge=0, lt=0.5)
    flat_std: float = Field(ge=0)
    hamming: int = Field(ge=0, le=32)
    scene_hamming: int = Field(ge=0, le=32)
    query_scene_hamming: int = Field(ge=0, le=32)
    motion_bits: int = Field(ge=0, le=64)
    min_motion_share: float = Field(ge=0, le=1)
    static_hamming: float = Field(ge=0, le=64)
    one_scene_hamming: float = Field(ge=0, le=64)
    band_bits: int = Field(ge=8, le=21)


class Sound(_Strict):
    key_bits: int = Field(ge=8, le=32)
    index_modulus: int = Field(ge=1)
    query_flips: int = Field(ge=0, le=1)
    window_s: float = Field(gt=0)
    max_bit_error: float = Field(gt=0, lt=0.5)
    min_change_bits: float = Field(ge=0)
    min_votes: int = Field(ge=1)
    timeout_s: float = Field(gt=0)


class Matching(_Strict):
    min_seconds: float = Field(gt=0)
    duplicate_share: float = Field(gt=0, le=1)
    max_gap_s: float = Field(ge=0)
    min_density: float = Field(gt=0, le=1)
    offset_slack_s: float = Field(ge=0)
    common_seconds: float = Field(gt=0)


class Lookup(_Strict):
    tick_s: float = Field(gt=0)
    bucket_s: float = Field(gt=0)
    min_votes: int = Field(ge=1)
    max_candidates: int = Field(ge=1)
    max_offsets: int = Field(ge=1)
    verify_slack_s: float = Field(ge=0)
    rekey_per_sweep: int = Field(ge=1)


class Common(_Strict):
    name: str
    file: Path


class Originality(_Strict):
    picture: Picture
    sound: Sound
    matching: Matching
    lookup: Lookup
    common: tuple[Common, ...] = ()
    folder: Path = CONFIG_DIR  # where relative `file`s of common material are

    def common_files(self) -> list[tuple[str, Path]]:
        return [(c.name, c.file if c.file.is_absolute() else self.folder / c.file) for c in self.common]


WHAT = "originality settings"


@lru_cache(maxsize=1)
def load() -> Originality:
    """config/originality.yaml, with LESSONQC_ORIGINALITY_CONFIG's file over it (read once per process)."""
    data = read_settings(ORIGINALITY_CONFIG, WHAT)
    folder = CONFIG_DIR
    override = os.environ.get(ORIGINALITY_CONFIG_ENV, "").strip()
    if override:
        _merge(data, read_settings(Path(override), WHAT))
        folder = Path(override).resolve().parent
    try:
        return Originality(**data, folder=folder)
    except ValidationError as exc:
        raise ProfileError(f"{override or ORIGINALITY_CONFIG}: {_first(exc)}") from None


def _merge(into: dict[str, Any], over: dict[str, Any]) -> None:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
