"""What a reviewer may do to a lesson: review a finding, decide; checks level, region and input."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from index import decisions as records
from index.models import Job
from index.review import Decision, FindingReview, User

from .levels import within
from .queue import REVIEWABLE


class NotAllowed(Exception):
    """The reviewer may see the lesson but not act on it now (another level holds it)."""


class BadInput(ValueError):
    """A form value is missing or wrong (message shown to the reviewer, in Chinese)."""


def can_act(user: User, job: Job) -> bool:
    """A reviewer acts on lessons at their own level within their region, once the report is out."""
    return job.level == user.level and within(job.region, user.region) and job.status in REVIEWABLE


def review_finding(session: Session, user: User, job: Job, seq: int, status: str, note: str,
                   max_chars: int) -> FindingReview:
    if not can_act(user, job):
        raise NotAllowed("这节课不在你的审核层级")
    if seq not in {f.seq for f in job.findings}:
        raise BadInput("没有这条问题")
    if status not in records.FINDING_STATUSES:
        raise BadInput("请选择确认或排除")
    return records.add_finding_review(session, job, seq, status, _text(note, max_chars), user.name)


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    forwarded_to: str | None


def decide(session: Session, user: User, job: Job, action: str, reason: str, max_chars: int,
           seen_version: int | None = None) -> Outcome:
    """Record my level's decision; return and reject need a reason. Of concurrent decisions (or one made on a
    page older than the last decision) exactly one wins; the others are NotAllowed."""
    if not can_act(user, job):
        raise NotAllowed("这节课不在你的审核层级")
    if action not in records.ACTIONS:
        raise BadInput("请选择通过、退回或不通过")
    reason = _text(reason, max_chars)
    if action != "pass" and not reason:
        raise BadInput("退回或不通过须写明理由")
    try:
        row = records.add_decision(session, job, action, reason, user.name, user.region, seen_version)
    except records.DecisionConflict:
        raise NotAllowed("这节课刚刚已有审核决定，请刷新页面查看。") from None
    session.flush()
    return Outcome(row, row.next_level)


def _text(value: str, max_chars: int) -> str:
    value = (value or "").strip()
    if len(value) > max_chars:
        raise BadInput(f"说明不能超过 {max_chars} 字")
    return value
