"""Selection across lessons in the index: `selection.same_node` (原则上同一目录节点只推荐1节) and the
passes a province has made at a level in a year (its quota, 名额).

A lesson passes level L when the decision in force at L is a pass. When a decision forwards a lesson
(it passed L and reaches the next level), every other lesson of the same catalogue node in the same
province that already passed L, or already passed the level it reaches, gets a `selection.same_node`
finding, and so does this lesson, one per (other lesson, level). The findings are index rows appended
after the report's (seq continues); report.json stays as the analysis published it.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Select, exists, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from .models import LEVEL_NAMES, LEVELS, Finding, Job, Lesson
from .review import Decision

SAME_NODE = "selection.same_node"


def province_of(region: str | None) -> str:
    """The first segment of a region path (浙江省/杭州市/西湖区 → 浙江省); '' when none."""
    parts = [p.strip() for p in (region or "").replace("\\", "/").split("/") if p.strip()]
    return parts[0] if parts else ""


def hold_province(session: Session, province: str) -> None:
    """Judge this transaction's pass after any other pass in `province` still being written (PostgreSQL: an
    advisory lock held to commit). Without it two reviewers passing two lessons of one node at once each missed
    the other's pass (no same_node), and two passes could both fit the quota's last place. SQLite has one
    writer at a time already: the later pass waits, or fails with "database is locked", never misses."""
    if not province or session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"lessonqc.pass:{province}".encode(), digest_size=8).digest()
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int.from_bytes(digest, "big", signed=True)})


def in_province(province: str) -> Any:
    """SQL: the job lies in `province` (itself or below it)."""
    return or_(Job.region == province, Job.region.startswith(province + "/", autoescape=True))


def passed(level: str) -> Any:
    """SQL: the decision in force at `level` on the job is a pass (none recorded at that level since)."""
    later = aliased(Decision)
    newer = exists().where(later.job_id == Decision.job_id, later.level == level, later.id > Decision.id)
    return exists().where(Decision.job_id == Job.id, Decision.level == level, Decision.action == "pass", ~newer)


def levels_checked(decision: Decision, from_level: str) -> list[str]:
    """The levels a decision makes same-node checks at: the level it passed, the level it forwards to."""
    floor = LEVELS.index(from_level)
    levels = ([decision.level] if decision.action == "pass" else []) + \
        ([decision.next_level] if decision.next_level else [])
    return [level for level in levels if LEVELS.index(level) >= floor]


def others_passed(session: Session, job: Job, level: str) -> list[Job]:
    """Other lessons of the job's catalogue node in its province that passed `level`."""
    province = province_of(job.region)
    key = job.lesson.node_key if job.lesson is not None else None
    if not province or not key:
        return []
    query: Select[Any] = select(Job).join(Lesson, Lesson.job_id == Job.id).where(
        Lesson.node_key == key, Job.id != job.id, in_province(province), passed(level)).order_by(Job.submitted_at, Job.id)
    return list(session.scalars(query))


def after_decision(session: Session, job: Job, decision: Decision, severity: str, from_level: str) -> list[Finding]:
    """selection.same_node findings a decision brings, on both lessons of each pair; the new rows."""
    session.flush()
    added: list[Finding] = []
    for level in levels_checked(decision, from_level):
        for other in others_passed(session, job, level):
            added += [row for row in (_add(session, job, other, level, severity), _add(session, other, job, level, severity))
                      if row is not None]
    return added


def _add(session: Session, job: Job, other: Job, level: str, severity: str) -> Finding | None:
    """One finding on `job` naming `other` at `level`, unless it has it already."""
    for f in job.findings:
        if f.code == SAME_NODE and (f.evidence or {}).get("other_job_id") == other.id and f.evidence.get("level") == level:
            return None
    lesson = other.lesson
    evidence = {"other_job_id": other.id, "other_title": lesson.title if lesson else None,
                "other_teacher": lesson.teacher if lesson else None, "other_school": lesson.school if lesson else None,
                "other_region": other.region, "level": level, "level_name": LEVEL_NAMES[level],
                "node": job.lesson.node_key if job.lesson else None}
    named = "，".join(v for v in (evidence["other_title"], evidence["other_teacher"], evidence["other_school"]) if v) \
        or other.id
    message = (f"同一目录节点的另一节课已通过{LEVEL_NAMES[level]}（{named}）"
               f" / another lesson of the same catalogue node already passed {level} in this province")
    last = session.scalar(select(func.max(Finding.seq)).where(Finding.job_id == job.id))
    seq = 0 if last is None else last + 1
    row = Finding(seq=seq, code=SAME_NODE, severity=severity, message=message, start_s=None, end_s=None,
                  evidence=evidence)
    job.findings.append(row)
    session.flush()
    return row


def passed_count(session: Session, province: str, level: str, year: int, besides: str | None = None) -> int:
    """Lessons of `province` submitted in `year` that passed `level` (leaving out the job `besides`)."""
    start, end = datetime(year, 1, 1, tzinfo=timezone.utc), datetime(year + 1, 1, 1, tzinfo=timezone.utc)
    query = select(func.count()).select_from(Job).where(
        in_province(province), Job.submitted_at >= start, Job.submitted_at < end, passed(level))
    if besides is not None:
        query = query.where(Job.id != besides)
    return session.scalar(query) or 0
