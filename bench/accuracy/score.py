"""Matching a report's findings against a case's expectations; precision and recall per code.

A finding counts when its severity is review or fail, or info for a code scored at info
(`text.citation`). It matches an expectation of the same code whose time range it overlaps
(within `TOLERANCE_S`); untimed expectations match any finding of their code.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.accuracy.model import Case, Expect

TOLERANCE_S = 1.0
INFO_SCORED = frozenset({"text.citation"})
IGNORED = frozenset({"tech.duration"})


@dataclass
class Tally:
    """Counts for one code in one part."""

    expected: int = 0
    found: int = 0          # expected instances found
    raised: int = 0         # findings raised
    true: int = 0           # findings raised that match an expectation
    false_fail: int = 0     # findings at fail that match nothing
    misses: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.found / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        return self.true / self.raised if self.raised else None


def scored(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f["code"] not in IGNORED
            and (f["severity"] in ("review", "fail") or (f["severity"] == "info" and f["code"] in INFO_SCORED))]


def matches(finding: dict[str, Any], expect: Expect) -> bool:
    if finding["code"] != expect.code:
        return False
    if expect.severity and finding["severity"] != expect.severity:
        return False
    if expect.start_s is None or finding.get("start_s") is None:
        return True
    return finding["start_s"] <= expect.end_s + TOLERANCE_S and finding["end_s"] >= expect.start_s - TOLERANCE_S


def tally(case: Case, findings: list[dict[str, Any]], table: dict[str, Tally]) -> None:
    """Add one case's outcome to `table` (code -> Tally)."""
    raised = scored(findings)
    for e in case.expects:
        t = table[e.code]
        t.expected += 1
        if any(matches(f, e) for f in raised):
            t.found += 1
        else:
            t.misses.append(f"{case.name} {_span(e.start_s, e.end_s)} {e.what}")
    for f in raised:
        t = table[f["code"]]
        t.raised += 1
        if any(matches(f, e) for e in case.expects):
            t.true += 1
            continue
        t.false_fail += f["severity"] == "fail"
        t.false.append(f"{case.name} {_span(f.get('start_s'), f.get('end_s'))} {f['severity']} {f['message'][:60]}")


def _span(a: float | None, b: float | None) -> str:
    return "-" if a is None else f"{a:.1f}-{b:.1f}s"


def new_table() -> dict[str, Tally]:
    return defaultdict(Tally)


def _ratio(v: float | None) -> str:
    return "   -" if v is None else f"{v:.2f}"


def render_table(parts: dict[str, dict[str, Tally]]) -> str:
    """A markdown table: per code, for each part, expected / recall / raised / precision / false fails."""
    codes = sorted({c for table in parts.values() for c in table})
    head = "| code | " + " | ".join(f"{p}: expected | recall | raised | precision | false fail" for p in parts) + " |"
    rule = "|---|" + "---|---|---|---|---|" * len(parts)
    rows = [head, rule]
    for code in codes:
        cells = []
        for table in parts.values():
            t = table.get(code, Tally())
            cells.append(f"{t.expected} | {_ratio(t.recall)} | {t.raised} | {_ratio(t.precision)} | {t.false_fail}")
        rows.append(f"| `{code}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def done(table: dict[str, Tally], min_recall: float) -> list[str]:
    """What keeps a part from the bar: codes under `min_recall`, or with a false alarm at fail."""
    problems = [f"{c}: recall {t.recall:.2f}" for c, t in table.items() if t.recall is not None and t.recall < min_recall]
    return problems + [f"{c}: {t.false_fail} false alarm(s) at fail" for c, t in table.items() if t.false_fail]
