"""Lessons that re-use each other, for the originality tests and the pages that show matches.

Lesson A is 60 s of its own footage and melody; each lesson B is a title card (5 s), 15 s of
its own, A's 15–45 s transformed (at B's 20–50 s), then 10 s of its own. Media are 320x180 and
cached (testmedia.cached) across sessions. `check_pair` checks A then B for real against one
index (pipelines.check with the index's LessonIndex, as `lessonqc check --index` does), so B's
report holds a real `originality.reused` naming A.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from testmedia import cached
from testmedia import originality as media
from testmedia.originality import Part

SIZE = (320, 180)
BIG = (480, 270)
REUSED_AT, REUSED_OF = (20.0, 50.0), (15.0, 45.0)
SKIP_STAGES = frozenset({"speech", "onscreen", "lab"})
SKIP = [arg for stage in sorted(SKIP_STAGES) for arg in ("--skip-stage", stage)]


def lessons(cache: Path) -> dict[str, Path]:
    """A, B's own footage and title card, and an unrelated lesson (cached)."""
    return {"a": cached(cache, "orig-a.mp4", media.footage, 11, 60.0, SIZE),
            "own": cached(cache, "orig-own.mp4", media.footage, 12, 40.0, SIZE),
            "card": cached(cache, "orig-card.mp4", media.title_card, "第二课 分数的意义", 5.0, SIZE, 5),
            "other": cached(cache, "orig-other.mp4", media.footage, 13, 60.0, SIZE)}


def lesson_b(cache: Path, lessons: dict[str, Path], middle: tuple[Part, ...], size: tuple[int, int] = SIZE,
             bitrate: str = "250k") -> Path:
    """Title card, 15 s of its own, `middle`, 10 s of its own (cached per arguments)."""
    own, card = lessons["own"], lessons["card"]
    parts = (Part(card, 0, 5), Part(own, 0, 15), *middle, Part(own, 15, 25))
    return cached(cache, "orig-b.mp4", media.derived, parts, size, bitrate)


def reuse(lessons: dict[str, Path], video: str = "", volume: float = 1.0) -> tuple[Part, ...]:
    """A's 15–45 s under an ffmpeg video filter and at a sound level."""
    return (Part(lessons["a"], 15, 45, video, volume),)


def check_pair(database: Any, jobs: dict[str, Any], videos: dict[str, Path], out: Path) -> dict[str, dict[str, Any]]:
    """Add each job of `jobs` (job id: repository.NewJob) to `database`, check its video of `videos` against
    the index and index its report and prints, in order; the report documents by job id."""
    from pipelines import profile as profiles
    from pipelines.check import check
    from index import repository
    from workers import originality

    profile = profiles.load("micro-primary")
    docs = {}
    for job_id, new in jobs.items():
        with database.session() as s:
            repository.add_job(s, new)
        folder = out / job_id
        check(videos[job_id], profile, folder, job_id=job_id, skip=SKIP_STAGES,
              index=originality.IndexLessons(lambda: database))
        docs[job_id] = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        originality.index_checked(database, docs[job_id], folder)
    return docs
