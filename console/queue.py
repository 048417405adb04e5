"""The review queue: lessons at a reviewer's level within their region, filtered, sorted and paged."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from index.decisions import WITHDRAW
from index.models import Finding, Job, Lesson
from index.review import Decision, User

from .levels import normalize_region

REVIEWABLE = ("done", "error")      # jobs with a published report
VERDICT_ORDER = {"fail": 0, "error": 1, "review": 2, "pass": 3}
SEVERITY_ORDER = {"fail": 0, "review": 1, "info": 2}
TOP_CODES = 3            # codes shown per queue row, most severe first


@dataclass(frozen=True)
class QueueFilter:
    """What the queue page asks for; None / '' means any."""

    verdict: str | None = None
    code: str | None = None
    subject: str | None = None
    grade: str | None = None
    category: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    decided: bool | None = None      # decided at my level or not
    q: str | None = None             # teacher, school or 课名 contains
    sort: str = "newest"
    page: int = 1
    page_size: int = 50


@dataclass
class QueueRow:
    job: Job
    lesson: Lesson | None
    counts: dict[str, int] = field(default_factory=dict)   # findings per severity
    decision: Decision | None = None                       # the decision in force at my level
    codes: list[str] = field(default_factory=list)         # the most severe finding codes
    earlier: Decision | None = None                        # the latest decision of another level


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    filters: QueueFilter
    pending: int = 0          # lessons at my level still undecided (whatever the filters)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filters.page_size))


def _sorts() -> dict[str, tuple[Any, ...]]:
    verdict_rank = case(VERDICT_ORDER, value=Job.verdict, else_=9)
    return {"newest": (Job.submitted_at.desc(), Job.id.desc()), "oldest": (Job.submitted_at.asc(), Job.id.asc()),
            "verdict": (verdict_rank, Job.submitted_at.desc(), Job.id.desc()),
            "teacher": (Lesson.teacher, Job.id), "school": (Lesson.school, Job.id), "title": (Lesson.title, Job.id)}


SORTS = ("newest", "oldest", "verdict", "teacher", "school", "title")


def decided_at(level: str) -> Any:
    """SQL: the job has a decision in force at `level` (one not withdrawn since)."""
    later = aliased(Decision)
    withdrawn = exists().where(later.job_id == Decision.job_id, later.level == level, later.action == WITHDRAW,
                               later.id > Decision.id)
    return exists().where(Decision.job_id == Job.id, Decision.level == level, Decision.action != WITHDRAW, ~withdrawn)


def in_region(scope: str, dialect: str) -> Any:
    """SQL: the job's region is `scope` or below it ('' is the whole country).

    On SQLite (BINARY collation: byte order) every such region lies in ['scope', 'scope0'), a range
    the (level, region) index serves; elsewhere only the exact test (collations need not sort by bytes).
    """
    scope = normalize_region(scope)
    if not scope:
        return true()
    exact = or_(Job.region == scope, Job.region.startswith(scope + "/", autoescape=True))
    if dialect == "sqlite":
        return and_(Job.region >= scope, Job.region < scope + "0", exact)
    return exact


def scoped(query: Select[Any], user: User, dialect: str) -> Select[Any]:
    """Lessons a reviewer may see: in their region, at their level or decided by their level."""
    decided_here = select(Decision.job_id).where(Decision.level == user.level)
    region = in_region(user.region, dialect)
    return query.where(or_(and_(Job.level == user.level, region), and_(Job.id.in_(decided_here), region)),
                       Job.status.concat("").in_(REVIEWABLE))   # concat: no index on status (it filters little)


def _filtered(query: Select[Any], user: User, f: QueueFilter, dialect: str) -> Select[Any]:
    query = scoped(query, user, dialect)
    for column, value in ((Job.verdict, f.verdict), (Lesson.subject, f.subject), (Lesson.grade, f.grade),
                          (Lesson.category, f.category)):
        if value:
            query = query.where(column == value)
    if f.code:
        query = query.where(exists().where(Finding.job_id == Job.id, Finding.code == f.code))
    if f.date_from:
        query = query.where(Job.submitted_at >= _day_start(f.date_from))
    if f.date_to:
        query = query.where(Job.submitted_at < _day_start(f.date_to + timedelta(days=1)))
    if f.decided is not None:
        query = query.where(decided_at(user.level) if f.decided else ~decided_at(user.level))
    if f.q:
        like = f"%{f.q.strip()}%"
        query = query.where(or_(Lesson.teacher.like(like), Lesson.school.like(like), Lesson.title.like(like)))
    return query


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def page(session: Session, user: User, f: QueueFilter) -> QueuePage:
    """One page of the queue with finding counts and my level's decision per lesson."""
    dialect = session.get_bind().dialect.name
    base = select(Job, Lesson).outerjoin(Lesson, Lesson.job_id == Job.id)
    total = session.scalar(_filtered(select(func.count()).select_from(Job).outerjoin(Lesson, Lesson.job_id == Job.id),
                                     user, f, dialect)) or 0
    f = replace(f, page=max(1, min(f.page, -(-total // f.page_size) or 1)))
    order = _sorts()[f.sort if f.sort in SORTS else "newest"]
    rows = session.execute(_filtered(base, user, f, dialect).order_by(*order)
                           .limit(f.page_size).offset((f.page - 1) * f.page_size)).all()
    out = [QueueRow(job, lesson) for job, lesson in rows]
    _attach(session, out, user.level)
    return QueuePage(out, total, f, pending_count(session, user))


def pending_count(session: Session, user: User) -> int:
    """Lessons at my level within my region not yet decided there."""
    query = scoped(select(func.count()).select_from(Job), user, session.get_bind().dialect.name)
    return session.scalar(query.where(Job.level == user.level, ~decided_at(user.level))) or 0


def _attach(session: Session, rows: list[QueueRow], level: str) -> None:
    """Finding counts and top codes, my level's decision in force and the latest other level's decision
    with a reason: two queries for the page."""
    ids = [r.job.id for r in rows]
    if not ids:
        return
    by_id = {r.job.id: r for r in rows}
    counts = (select(Finding.job_id, Finding.severity, Finding.code, func.count()).where(Finding.job_id.in_(ids))
              .group_by(Finding.job_id, Finding.severity, Finding.code))
    ranked: dict[str, list[tuple[int, int, str]]] = {}
    for job_id, severity, code, n in session.execute(counts):
        row = by_id[job_id]
        row.counts[severity] = row.counts.get(severity, 0) + n
        ranked.setdefault(job_id, []).append((SEVERITY_ORDER.get(severity, 9), -n, code))
    for job_id, items in ranked.items():
        by_id[job_id].codes = list(dict.fromkeys(code for _, _, code in sorted(items)))[:TOP_CODES]
    for d in session.scalars(select(Decision).where(Decision.job_id.in_(ids)).order_by(Decision.id)):
        row = by_id[d.job_id]
        if d.level == level:
            row.decision = None if d.action == WITHDRAW else d
        elif d.reason and d.action != WITHDRAW:
            row.earlier = d


def visible(session: Session, user: User, job_id: str) -> Job | None:
    """The job if this reviewer may see it, else None (the page answers 404 either way)."""
    return session.scalar(scoped(select(Job).where(Job.id == job_id), user, session.get_bind().dialect.name))


def next_pending(session: Session, user: User, after: Job) -> str | None:
    """The next lesson still undecided at my level (older than `after`, else the newest), or None."""
    pending = scoped(select(Job.id), user, session.get_bind().dialect.name).where(
        Job.level == user.level, ~decided_at(user.level), Job.id != after.id)
    older = pending.where(or_(Job.submitted_at < after.submitted_at,
                              (Job.submitted_at == after.submitted_at) & (Job.id < after.id)))
    order = (Job.submitted_at.desc(), Job.id.desc())
    return session.scalar(older.order_by(*order).limit(1)) or session.scalar(pending.order_by(*order).limit(1))


def choices(session: Session) -> dict[str, list[str]]:
    """Values offered by the filter drop-downs: every subject, grade, category and code in the index."""
    out: dict[str, list[str]] = {}
    for name, column in (("subject", Lesson.subject), ("grade", Lesson.grade), ("category", Lesson.category)):
        out[name] = sorted(session.scalars(select(column).distinct().where(column.is_not(None))))
    out["code"] = sorted(session.scalars(select(Finding.code).distinct()))
    return out
