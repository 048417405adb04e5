"""The selection settings (config/selection.yaml), validated when first read."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config import CONFIG_DIR
from pipelines.errors import ProfileError
from pipelines.settings.files import read_settings

SELECTION_CONFIG = CONFIG_DIR / "selection.yaml"
SELECTION_CONFIG_ENV = "LESSONQC_SELECTION_CONFIG"
WHAT = "selection settings"
Severity = Literal["fail", "review", "info"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Severities(_Strict):
    metadata_mismatch: Severity
    node_unknown: Severity
    same_node: Severity


class Card(_Strict):
    teacher_suffixes: tuple[str, ...]
    name_separators: str
    max_name_chars: int = Field(ge=1)
    min_contained_chars: int = Field(ge=1)


class Selection(_Strict):
    severity: Severities
    same_node_from: Literal["school", "county", "city", "province", "national"]
    card: Card
    editions: dict[str, tuple[str, ...]]
    grades: dict[str, tuple[str, ...]]
    volumes: dict[str, tuple[str, ...]]
    subjects: dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def load() -> Selection:
    """config/selection.yaml, with LESSONQC_SELECTION_CONFIG's file over it (read once per process)."""
    data = read_settings(SELECTION_CONFIG, WHAT)
    override = os.environ.get(SELECTION_CONFIG_ENV, "").strip()
    if override:
        data.update(read_settings(Path(override), WHAT))
    try:
        return Selection(**data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ProfileError(f"{override or SELECTION_CONFIG}: {'.'.join(str(p) for p in error['loc'])}: "
                           f"{error['msg']}") from None
