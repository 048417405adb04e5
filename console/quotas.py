"""Province quotas (名额) for the national round (config/quotas.yaml): a province reviewer's count against
its quota, and the check that a pass beyond it was confirmed."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from config import CONFIG_DIR
from index import selection
from index.models import LEVELS, Job
from index.review import User
from pipelines.errors import ProfileError
from pipelines.settings.files import read_settings

QUOTAS_CONFIG = CONFIG_DIR / "quotas.yaml"
QUOTAS_ENV = "LESSONQC_QUOTAS"


@dataclass(frozen=True)
class Quotas:
    level: str                                   # passes at this level count
    by_year: dict[int, dict[str, int]]           # year -> province -> quota

    def quota(self, year: int, province: str) -> int | None:
        return self.by_year.get(year, {}).get(province)


@lru_cache(maxsize=1)
def load() -> Quotas:
    """config/quotas.yaml, or the file LESSONQC_QUOTAS names instead (read once per process)."""
    path = Path(os.environ.get(QUOTAS_ENV, "").strip() or QUOTAS_CONFIG)
    data = read_settings(path, "quotas")
    level = data.get("level", "province")
    if level not in LEVELS:
        raise ProfileError(f"{path}: level: one of {', '.join(LEVELS)}")
    by_year: dict[int, dict[str, int]] = {}
    for year, provinces in (data.get("quotas") or {}).items():
        if not isinstance(year, int) or not isinstance(provinces, dict) or \
                not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in provinces.values()):
            raise ProfileError(f"{path}: quotas: a year maps each province to a whole number ≥ 0")
        by_year[year] = {str(k): v for k, v in provinces.items()}
    return Quotas(level, by_year)


@dataclass(frozen=True)
class Standing:
    """A province's passes at the quota level in a year against its quota (None: no quota set)."""

    province: str
    year: int
    passed: int
    quota: int | None

    @property
    def full(self) -> bool:
        return self.quota is not None and self.passed >= self.quota


def this_year() -> int:
    return datetime.now(timezone.utc).year


def standing(session: Session, user: User, year: int | None = None) -> Standing | None:
    """The reviewer's province's standing, for reviewers of the quota level within one province (else None)."""
    quotas = load()
    province = selection.province_of(user.region)
    if user.level != quotas.level or not province:
        return None
    year = year or this_year()
    return Standing(province, year, selection.passed_count(session, province, quotas.level, year),
                    quotas.quota(year, province))


def over_quota(session: Session, job: Job) -> Standing | None:
    """The standing a pass of `job` at the quota level would exceed (None: within quota, or no quota)."""
    quotas = load()
    province = selection.province_of(job.region)
    if job.level != quotas.level or not province:
        return None
    year = job.submitted_at.year
    quota = quotas.quota(year, province)
    if quota is None:
        return None
    passed = selection.passed_count(session, province, quotas.level, year, besides=job.id)
    return Standing(province, year, passed, quota) if passed + 1 > quota else None
