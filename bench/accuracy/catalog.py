"""The families of benchmark cases, listed explicitly (no registration on import).

Each module named here has `cases() -> list[Case]`. A new family (e.g. spoken promotions,
`bench.accuracy.cases_speech`) is one more module and one more line here.
"""
from __future__ import annotations

import importlib

from bench.accuracy.model import Case

FAMILIES: tuple[str, ...] = (
    "bench.accuracy.cases_titlecard",
    "bench.accuracy.cases_text",
    "bench.accuracy.cases_signal",
    "bench.accuracy.cases_speech",
)


def all_cases(families: tuple[str, ...] = FAMILIES) -> list[Case]:
    """Every case of every family, names unique."""
    cases = [case for module in families for case in importlib.import_module(module).cases()]
    names = [c.name for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate case names: {sorted(duplicates)}")
    return cases
