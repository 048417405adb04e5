"""Reading and writing jobs in the index: submit, upsert a published report, query with filters."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import Database
from .models import LEVELS, Finding, Job, Lesson

LESSON_FIELDS = ("teacher", "school", "subject", "grade", "title", "category")


@dataclass(frozen=True)
class NewJob:
    """What a submission records before the farm has seen it."""

    job_id: str
    source: str
    profile: str
    media_path: str | None = None
    media_sha256: str | None = None
    media_size: int | None = None
    region: str | None = None
    level: str = LEVELS[0]
    lesson: dict[str, str | None] = field(default_factory=dict)
    callback_url: str | None = None
    submitted_by: str | None = None
    spec: dict[str, Any] | None = None      # the farm's job spec: enough to queue the job again
    snapshot: dict[str, Any] | None = None  # the profile validated at submit ({"name", "data"})


def add_job(session: Session, new: NewJob) -> Job:
    """Insert a queued job with its lesson metadata."""
    job = Job(id=new.job_id, source=new.source, profile=new.profile, media_path=new.media_path,
              media_sha256=new.media_sha256, media_size=new.media_size, status="queued", region=new.region,
              level=new.level, submitted_by=new.submitted_by, callback_url=new.callback_url,
              callback_state="pending" if new.callback_url else None, callback_attempts=0, spec=new.spec,
              profile_snapshot=new.snapshot, recoveries=0)
    lesson = {k: v for k, v in new.lesson.items() if k in LESSON_FIELDS and v is not None}
    if lesson:
        job.lesson = Lesson(**lesson)
    session.add(job)
    return job


def withdraw(session: Session, job_id: str) -> None:
    """Drop a job that was never queued (its submission failed after the index row was written)."""
    job = session.get(Job, job_id)
    if job is not None and job.status == "queued" and job.report_dir is None:
        session.delete(job)


def mark_running(session: Session, job_id: str) -> None:
    """queued -> running (a finished job stays finished; an unknown one is left alone)."""
    session.execute(update(Job).where(Job.id == job_id, Job.status == "queued").values(status="running"))


def unfinished(session: Session, before: datetime) -> Sequence[Job]:
    """Jobs still queued or running that were submitted before `before`, oldest first."""
    return session.scalars(select(Job).where(Job.status.in_(("queued", "running")), Job.submitted_at < before)
                           .order_by(Job.submitted_at, Job.id)).all()


def count_recovery(session: Session, job_id: str) -> int:
    """One more re-creation of a job the queue lost; returns how many there have been."""
    session.execute(update(Job).where(Job.id == job_id).values(recoveries=func.coalesce(Job.recoveries, 0) + 1))
    return session.scalar(select(Job.recoveries).where(Job.id == job_id)) or 0


def upsert_report(db: Database, doc: dict[str, Any], report_dir: str | None) -> Job:
    """Index a published report.json idempotently (a second call adds no rows); retried once on a race."""
    try:
        with db.session() as session:
            return _upsert(session, doc, report_dir)
    except IntegrityError:  # a concurrent upsert of the same job won the insert: this one now only updates
        with db.session() as session:
            return _upsert(session, doc, report_dir)


def _upsert(session: Session, doc: dict[str, Any], report_dir: str | None) -> Job:
    job = session.get(Job, doc["job_id"])
    if job is None:
        job = Job(id=doc["job_id"], source=doc["source"], profile=doc["profile"], level=LEVELS[0],
                  submitted_at=_parse_time(doc["created_at"]), callback_attempts=0)
        session.add(job)
    job.status = "error" if doc["verdict"] == "error" else "done"
    job.verdict = doc["verdict"]
    job.finished_at = _parse_time(doc["created_at"])
    job.report_dir = report_dir
    job.stages = doc.get("stages") or {}
    job.duration_s = (doc.get("media") or {}).get("duration_s")
    if (doc.get("media") or {}).get("size_bytes") is not None and job.media_size is None:
        job.media_size = int(doc["media"]["size_bytes"])
    session.flush()
    if not session.scalar(select(func.count()).select_from(Finding).where(Finding.job_id == job.id)):
        session.add_all(_findings(job.id, doc.get("findings") or []))
    return job


def _findings(job_id: str, findings: list[dict[str, Any]]) -> list[Finding]:
    return [Finding(job_id=job_id, seq=i, code=f["code"], severity=f["severity"], message=f.get("message") or "",
                    start_s=f.get("start_s"), end_s=f.get("end_s"), evidence=f.get("evidence") or {})
            for i, f in enumerate(findings)]


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def get_job(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


@dataclass(frozen=True)
class JobFilter:
    """GET /jobs filters; None means any. `region` matches itself and everything below it."""

    verdict: str | None = None
    code: str | None = None
    status: str | None = None
    profile: str | None = None
    region: str | None = None
    level: str | None = None
    submitted_after: datetime | None = None
    submitted_before: datetime | None = None


def filtered(query: Select[Any], f: JobFilter) -> Select[Any]:
    """Apply `f` to a query over Job (the console adds its own reviewer scope on top)."""
    for column, value in ((Job.verdict, f.verdict), (Job.status, f.status), (Job.profile, f.profile),
                          (Job.level, f.level)):
        if value is not None:
            query = query.where(column == value)
    if f.region:
        prefix = f.region.rstrip("/")
        query = query.where(or_(Job.region == prefix, Job.region.startswith(prefix + "/", autoescape=True)))
    if f.code:
        query = query.where(select(Finding.id).where(Finding.job_id == Job.id, Finding.code == f.code).exists())
    if f.submitted_after is not None:
        query = query.where(Job.submitted_at >= f.submitted_after)
    if f.submitted_before is not None:
        query = query.where(Job.submitted_at < f.submitted_before)
    return query


def list_jobs(session: Session, f: JobFilter, limit: int, offset: int) -> tuple[Sequence[Job], int]:
    """One page of jobs, newest first, and the total count matching `f`."""
    total = session.scalar(filtered(select(func.count()).select_from(Job), f)) or 0
    page = session.scalars(filtered(select(Job), f).order_by(Job.submitted_at.desc(), Job.id.desc())
                           .limit(limit).offset(offset)).all()
    return page, total


def codes_by_job(session: Session, job_ids: Sequence[str]) -> dict[str, list[str]]:
    """Distinct finding codes of each job (in report order), for list views."""
    out: dict[str, list[str]] = {j: [] for j in job_ids}
    rows = session.execute(select(Finding.job_id, Finding.code).where(Finding.job_id.in_(job_ids))
                           .order_by(Finding.job_id, Finding.seq)) if job_ids else []
    for job_id, code in rows:
        if code not in out[job_id]:
            out[job_id].append(code)
    return out
