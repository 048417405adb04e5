"""Append-only review records: finding reviews and level decisions, and what the platform reads of them."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .models import LEVELS, Job
from .review import Decision, FindingReview, LessonOpen

FINDING_STATUSES = ("confirmed", "dismissed")
ACTIONS = ("pass", "return", "reject")
WITHDRAW = "withdraw"     # a decision taken back (its own row: the history stays append-only)


def next_level(level: str) -> str | None:
    """The level a pass forwards to; None after the last (national) level."""
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def add_finding_review(session: Session, job: Job, seq: int, status: str, note: str, reviewer: str) -> FindingReview:
    """Record a confirm/dismiss of finding `seq` at the job's current level."""
    if status not in FINDING_STATUSES:
        raise ValueError(f"unknown finding status {status!r}")
    row = FindingReview(job_id=job.id, finding_seq=seq, level=job.level, status=status, note=note, reviewer=reviewer)
    session.add(row)
    return row


class DecisionConflict(Exception):
    """Another decision on the job was recorded since this one's reviewer read it (the page or the request)."""


def add_decision(session: Session, job: Job, action: str, reason: str, reviewer: str, reviewer_region: str,
                 seen_version: int | None = None) -> Decision:
    """Record the current level's decision; a pass moves the job up one level (national stays).

    One conditional write (`UPDATE jobs … WHERE level = :level AND review_version = :seen`) decides
    which of concurrent decisions wins: the others change no row and raise DecisionConflict.
    `seen_version` is the job's review_version the reviewer's page showed (default: as read now).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown decision {action!r}")
    level, seen = job.level, job.review_version if seen_version is None else seen_version
    forward = next_level(level) if action == "pass" else None
    won = session.execute(update(Job).where(Job.id == job.id, Job.level == level, Job.review_version == seen)
                          .values(level=forward or level, review_version=seen + 1)
                          .execution_options(synchronize_session=False))
    if won.rowcount != 1:
        raise DecisionConflict(f"job {job.id}: another decision was recorded at {level} meanwhile")
    set_committed_value(job, "level", forward or level)
    set_committed_value(job, "review_version", seen + 1)
    row = Decision(job_id=job.id, level=level, action=action, reason=reason, reviewer=reviewer,
                   reviewer_region=reviewer_region, next_level=forward)
    session.add(row)
    return row


def add_withdrawal(session: Session, job: Job, decision: Decision, reason: str, reviewer: str,
                   reviewer_region: str) -> Decision:
    """Take `decision` back: a withdrawal row at its level; a pass's lesson returns to that level.
    The same conditional write as a decision: a decision or withdrawal recorded meanwhile wins."""
    at, seen = decision.next_level or decision.level, job.review_version
    won = session.execute(update(Job).where(Job.id == job.id, Job.level == at, Job.review_version == seen)
                          .values(level=decision.level, review_version=seen + 1)
                          .execution_options(synchronize_session=False))
    if won.rowcount != 1:
        raise DecisionConflict(f"job {job.id}: another decision was recorded meanwhile")
    set_committed_value(job, "level", decision.level)
    set_committed_value(job, "review_version", seen + 1)
    row = Decision(job_id=job.id, level=decision.level, action=WITHDRAW, reason=reason, reviewer=reviewer,
                   reviewer_region=reviewer_region, next_level=None)
    session.add(row)
    return row


def in_force(decisions: Sequence[Decision], level: str) -> Decision | None:
    """The decision in force at `level`: its latest one, unless that was withdrawn."""
    latest = next((d for d in reversed(decisions) if d.level == level), None)
    return latest if latest is not None and latest.action != WITHDRAW else None


def note_open(session: Session, job: Job, reviewer: str, since: Decision | None) -> None:
    """Record that `job`'s current level opened it, once after the decision `since` (which it ends the undo of)."""
    if since is None or since.next_level != job.level:
        return
    opened = session.scalar(select(LessonOpen.id).where(LessonOpen.job_id == job.id, LessonOpen.level == job.level,
                                                        LessonOpen.opened_at >= since.created_at).limit(1))
    if opened is None:
        session.add(LessonOpen(job_id=job.id, level=job.level, reviewer=reviewer))


def opened_since(session: Session, job_id: str, level: str, decision: Decision) -> bool:
    """Whether `level` opened the job after `decision`."""
    return session.scalar(select(LessonOpen.id).where(LessonOpen.job_id == job_id, LessonOpen.level == level,
                                                      LessonOpen.opened_at >= decision.created_at).limit(1)) is not None


def decisions_of(session: Session, job_id: str) -> Sequence[Decision]:
    """Every decision on a job, oldest first."""
    return session.scalars(select(Decision).where(Decision.job_id == job_id).order_by(Decision.id)).all()


def finding_reviews_of(session: Session, job_id: str) -> Sequence[FindingReview]:
    """Every finding review on a job, oldest first."""
    return session.scalars(select(FindingReview).where(FindingReview.job_id == job_id)
                           .order_by(FindingReview.id)).all()


def latest_reviews(reviews: Sequence[FindingReview], level: str) -> dict[int, FindingReview]:
    """The review in force per finding at `level` (the last one recorded)."""
    return {r.finding_seq: r for r in reviews if r.level == level}


@dataclass(frozen=True)
class DecisionRecord:
    """One decision as the platform sees it (GET /jobs/{id}/decisions, the decision callback)."""

    id: int
    level: str
    action: str
    reason: str
    reviewer: str
    decided_at: str
    next_level: str | None
    findings: list[dict[str, Any]]


def records(session: Session, job_id: str) -> list[DecisionRecord]:
    """Each decision with the finding reviews in force at its level when it was made."""
    reviews = finding_reviews_of(session, job_id)
    out = []
    for d in decisions_of(session, job_id):
        in_force = latest_reviews([r for r in reviews if r.created_at <= d.created_at], d.level)
        out.append(DecisionRecord(d.id, d.level, d.action, d.reason, d.reviewer, d.created_at.isoformat(), d.next_level,
                                  [{"seq": s, "status": r.status, "note": r.note, "reviewer": r.reviewer}
                                   for s, r in sorted(in_force.items())]))
    return out


def as_dict(record: DecisionRecord) -> dict[str, Any]:
    return asdict(record)
