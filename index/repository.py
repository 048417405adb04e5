"""Reading and writing jobs in the index: submit, upsert a published report, query with filters."""
from __future__ import annotations

import base64
import binascii
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from datetime import datetime, timezone
from typing import Any, Sequence, TypedDict

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import Database
from .models import LEVELS, NODE_PARTS, Finding, Job, Lesson

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
    job.lesson = lesson_row(new.lesson)
    session.add(job)
    return job


def lesson_row(lesson: dict[str, Any]) -> Lesson | None:
    """The lessons row of checked metadata (LessonMeta.to_dict(): the node a mapping of its six parts);
    None when empty."""
    values = {k: v for k, v in lesson.items() if k in LESSON_FIELDS and v is not None}
    node = lesson.get("node")
    if isinstance(node, dict) and all(node.get(p) for p in NODE_PARTS):
        values.update({f"node_{p}": str(node[p]) for p in NODE_PARTS}, node_key=node_key(node))
    return Lesson(**values) if values else None


def node_key(node: dict[str, Any]) -> str:
    """The node as the index compares it: its parts NFKC (full/half width) without spaces, joined by '/'."""
    return "/".join("".join(unicodedata.normalize("NFKC", str(node[p])).split()) for p in NODE_PARTS)


def node_of(lesson: Lesson | None) -> dict[str, str] | None:
    """A lessons row's catalogue node as a mapping of its six parts (None when it has none)."""
    if lesson is None or not lesson.node_key:
        return None
    return {p: getattr(lesson, f"node_{p}") for p in NODE_PARTS}


def withdraw(session: Session, job_id: str) -> None:
    """Drop a job that was never queued (its submission failed after the index row was written)."""
    job = session.get(Job, job_id)
    if job is not None and job.status == "queued" and job.report_dir is None:
        session.delete(job)


def delete_job(session: Session, job_id: str) -> None:
    """Delete a job; the database cascades to its lesson, findings, reviews, decisions and deliveries."""
    session.expunge_all()
    session.execute(delete(Job).where(Job.id == job_id))


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
    if job.lesson is None and isinstance(doc.get("lesson"), dict):  # a report checked with metadata (check --index)
        job.lesson = lesson_row(doc["lesson"])
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
    within: str | None = None  # the caller's own region scope (an API token's), applied like `region`


def filtered(query: Select[Any], f: JobFilter) -> Select[Any]:
    """Apply `f` to a query over Job (the console adds its own reviewer scope on top)."""
    for column, value in ((Job.verdict, f.verdict), (Job.status, f.status), (Job.profile, f.profile),
                          (Job.level, f.level)):
        if value is not None:
            query = query.where(column == value)
    for region in (f.region, f.within):
        if region:
            prefix = region.rstrip("/")
            query = query.where(or_(Job.region == prefix, Job.region.startswith(prefix + "/", autoescape=True)))
    if f.code:
        query = query.where(select(Finding.id).where(Finding.job_id == Job.id, Finding.code == f.code).exists())
    if f.submitted_after is not None:
        query = query.where(Job.submitted_at >= f.submitted_after)
    if f.submitted_before is not None:
        query = query.where(Job.submitted_at < f.submitted_before)
    return query


def codes_by_job(session: Session, job_ids: Sequence[str]) -> dict[str, list[str]]:
    """Distinct finding codes of each job (in report order), for list views."""
    out: dict[str, list[str]] = {j: [] for j in job_ids}
    rows = session.execute(select(Finding.job_id, Finding.code).where(Finding.job_id.in_(job_ids))
                           .order_by(Finding.job_id, Finding.seq)) if job_ids else []
    for job_id, code in rows:
        if code not in out[job_id]:
            out[job_id].append(code)
    return out


@dataclass(frozen=True)
class Cursor:
    """Where a page of jobs ends (newest first): the last item's submission time and id."""

    submitted_at: datetime
    job_id: str

    def encode(self) -> str:
        text = f"{self.submitted_at.astimezone(timezone.utc).isoformat()}|{self.job_id}"
        return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The cursor of `token`; ValueError when it is not one this server made."""
        try:
            when, job_id = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8").split("|", 1)
            return cls(_parse_time(when), job_id)
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"not a cursor: {exc}") from None


class ListedJob(TypedDict):
    """A row of the job list: the columns a list shows, with the lesson and the report's distinct codes
    (a mapping, so that an answer model validates a whole page in one call)."""

    id: str
    status: str
    verdict: str | None
    profile: str
    source: str
    region: str | None
    level: str
    submitted_at: datetime
    finished_at: datetime | None
    codes: list[str]
    lesson: dict[str, Any]


_NAMES = ("id", "status", "verdict", "profile", "source", "region", "level", "submitted_at", "finished_at")
_LISTED = (Job.id, Job.status, Job.verdict, Job.profile, Job.source, Job.region, Job.level, Job.submitted_at,
           Job.finished_at)
_LESSON_COLUMNS = tuple(getattr(Lesson, name) for name in LESSON_FIELDS) + \
    tuple(getattr(Lesson, f"node_{part}") for part in NODE_PARTS)


@cache
def _listing(dialect: str) -> Select[Any]:
    """The list's columns, lesson joined and codes aggregated, built once per dialect (filters go on top)."""
    return select(*_LISTED, *_LESSON_COLUMNS, _codes(dialect)).outerjoin(Lesson, Lesson.job_id == Job.id) \
        .order_by(Job.submitted_at.desc(), Job.id.desc())


def _codes(dialect: str) -> ColumnElement[Any]:
    """The job's finding codes in report order, space-separated, aggregated in SQL (one correlated subquery)."""
    if dialect == "postgresql":
        agg = func.aggregate_strings(Finding.code, " ").aggregate_order_by(Finding.seq)
        return select(agg).where(Finding.job_id == Job.id).scalar_subquery()
    ordered = select(Finding.code).where(Finding.job_id == Job.id).order_by(Finding.seq).correlate(Job).subquery()
    return select(func.group_concat(ordered.c.code, " ")).scalar_subquery()  # SQLite keeps the inner order


def list_page(session: Session, f: JobFilter, limit: int,
              after: Cursor | None = None) -> tuple[list[ListedJob], Cursor | None]:
    """One page of jobs newest first after `after` (keyset), and the cursor of the next page (None: last page).
    One statement; no JSON column is read."""
    query = filtered(_listing(session.get_bind().dialect.name), f)
    if after is not None:
        query = query.where(tuple_(Job.submitted_at, Job.id) < tuple_(after.submitted_at, after.job_id))
    rows = session.connection().execute(query.limit(limit + 1)).all()
    items = [_listed(row) for row in rows[:limit]]
    more = len(rows) > limit
    return items, Cursor(items[-1]["submitted_at"], items[-1]["id"]) if more else None


def _listed(row: Any) -> ListedJob:
    values = tuple(row)
    base, lesson, codes = values[:len(_LISTED)], values[len(_LISTED):-1], values[-1]
    item: dict[str, Any] = dict(zip(_NAMES, base))
    item["codes"] = list(dict.fromkeys(codes.split())) if codes else []
    item["lesson"] = dict(zip(LESSON_FIELDS, lesson))
    node = lesson[len(LESSON_FIELDS):]
    item["lesson"]["node"] = dict(zip(NODE_PARTS, node)) if all(node) else None
    return item  # type: ignore[return-value]


def count_jobs(session: Session, f: JobFilter) -> int:
    """How many jobs match `f` (asked for explicitly: a COUNT is not free on a large index)."""
    return session.scalar(filtered(select(func.count()).select_from(Job), f)) or 0
