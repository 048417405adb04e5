"""Review levels (school → county → city → province → national), their Chinese names, region paths."""
from __future__ import annotations

from index.decisions import ACTIONS, next_level
from index.models import LEVEL_NAMES, LEVELS

__all__ = ["LEVELS", "ACTIONS", "LEVEL_NAMES", "ACTION_NAMES", "next_level", "check_level", "normalize_region",
           "within"]

ACTION_NAMES: dict[str, str] = {"pass": "通过", "return": "退回修改", "reject": "不通过", "withdraw": "撤回决定"}


def check_level(level: str) -> str:
    """The level itself, or ValueError naming the allowed ones."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r} (one of {', '.join(LEVELS)})")
    return level


def normalize_region(region: str) -> str:
    """`浙江省/杭州市/西湖区` with stray slashes and spaces removed; '' is the whole country."""
    parts = [p.strip() for p in region.replace("\\", "/").split("/")]
    return "/".join(p for p in parts if p)


def within(region: str | None, scope: str) -> bool:
    """Whether a lesson's region lies inside a reviewer's region (whole path segments)."""
    region, scope = normalize_region(region or ""), normalize_region(scope)
    return not scope or region == scope or region.startswith(scope + "/")
