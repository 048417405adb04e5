"""originality.reused and originality.duplicate from the aligned runs against each other lesson."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.domain import Finding
from pipelines.originality.config import Matching
from pipelines.originality.match import Run

SEVERITY = "review"
CODES = ("originality.reused", "originality.duplicate")
META_FIELDS = ("title", "teacher", "school", "region", "year")


@dataclass(frozen=True)
class Other:
    """Another indexed lesson as the evidence names it."""

    job_id: str
    meta: dict[str, Any] = field(default_factory=dict)  # title, teacher, school, region, year


@dataclass(frozen=True)
class Stretch:
    """Picture and sound runs of one alignment joined: what a reviewer sees as one re-use."""

    start_s: float
    end_s: float
    other_start_s: float
    other_end_s: float
    matched: str          # picture | sound | both
    similarity: float
    mirrored: bool


def stretches(runs: list[Run], rules: Matching) -> list[Stretch]:
    """Join runs that overlap in this lesson at (about) the same offset; the rest stand alone."""
    groups: list[list[Run]] = []
    for run in sorted(runs, key=lambda r: r.start_s):
        group = next((g for g in groups if _joins(g, run, rules.offset_slack_s)), None)
        if group is None:
            groups.append([run])
        else:
            group.append(run)
    return [_stretch(g) for g in groups]


def _joins(group: list[Run], run: Run, slack_s: float) -> bool:
    return any(run.start_s <= r.end_s and r.start_s <= run.end_s and abs(run.offset_s - r.offset_s) <= slack_s + 0.5
               for r in group)


def _stretch(group: list[Run]) -> Stretch:
    """The runs' extent; where the picture matched, its times (a frame, not a 2 s sound window)."""
    kinds = {r.kind for r in group}
    timed = [r for r in group if r.kind == "picture"] or group
    return Stretch(min(r.start_s for r in timed), max(r.end_s for r in timed),
                   min(r.other_start_s for r in timed), max(r.other_end_s for r in timed),
                   "both" if len(kinds) == 2 else next(iter(kinds)),
                   round(max(r.similarity for r in group), 3), any(r.mirrored for r in group))


def reused(other: Other, found: list[Stretch]) -> list[Finding]:
    """One originality.reused per stretch of re-used footage or sound."""
    return [Finding("originality.reused", SEVERITY,
                    f"与另一节课的{_what(s)}相同（{_title(other)} {_clock(s.other_start_s)}–{_clock(s.other_end_s)}）"
                    f" / {_what_en(s)} another lesson", round(s.start_s, 2), round(s.end_s, 2),
                    _evidence(other, s)) for s in found]


def duplicate(other: Other, found: list[Stretch], duration_s: float, rules: Matching) -> Finding | None:
    """originality.duplicate when the stretches cover at least `duplicate_share` of the lesson."""
    covered = _covered([(s.start_s, s.end_s) for s in found])
    if duration_s <= 0 or covered < rules.duplicate_share * duration_s:
        return None
    share = round(min(1.0, covered / duration_s), 3)
    return Finding("originality.duplicate", SEVERITY,
                   f"本课 {share:.0%} 与另一节课相同（{_title(other)}） / {share:.0%} of this lesson matches another lesson",
                   round(min(s.start_s for s in found), 2), round(max(s.end_s for s in found), 2),
                   {"other_job_id": other.job_id, **_meta(other), "share": share,
                    "matched": _kinds(found)})


def _covered(spans: list[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def _evidence(other: Other, s: Stretch) -> dict[str, Any]:
    return {"other_job_id": other.job_id, **_meta(other), "start_s": round(s.start_s, 2), "end_s": round(s.end_s, 2),
            "other_start_s": round(s.other_start_s, 2), "other_end_s": round(s.other_end_s, 2),
            "matched": s.matched, "similarity": s.similarity, "mirrored": s.mirrored}


def _meta(other: Other) -> dict[str, Any]:
    return {f"other_{k}": other.meta.get(k) for k in META_FIELDS}


def _kinds(found: list[Stretch]) -> str:
    kinds = {s.matched for s in found}
    return kinds.pop() if len(kinds) == 1 else "both"


def _what(s: Stretch) -> str:
    return {"picture": "画面", "sound": "声音", "both": "画面和声音"}[s.matched]


def _what_en(s: Stretch) -> str:
    return {"picture": "picture matches", "sound": "sound matches", "both": "picture and sound match"}[s.matched]


def _title(other: Other) -> str:
    return f"《{other.meta['title']}》" if other.meta.get("title") else other.job_id


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60:02d}:{s % 60:02d}"
