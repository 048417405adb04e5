"""What a reviewer may do to a lesson: review a finding, decide; checks level, region and input."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from index import decisions as records
from index import selection
from index.models import Job
from index.review import Decision, FindingReview, User

from pipelines.selection import config as selection_config

from . import quotas
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


def unreviewed_fails(session: Session, job: Job) -> int:
    """`fail` findings with no confirm/dismiss at the job's current level."""
    reviewed = records.latest_reviews(records.finding_reviews_of(session, job.id), job.level)
    return sum(1 for f in job.findings if f.severity == "fail" and f.seq not in reviewed)


def decide(session: Session, user: User, job: Job, action: str, reason: str, max_chars: int,
           seen_version: int | None = None, unreviewed_ok: bool = False, over_quota_ok: bool = False) -> Outcome:
    """Record my level's decision; return and reject need a reason; a pass over unreviewed `fail` findings
    needs `unreviewed_ok` (the reviewer was asked once), a pass beyond the province's quota `over_quota_ok`.
    Of concurrent decisions (or one made on a page older than the last decision) exactly one wins; the others
    are NotAllowed. A pass adds selection.same_node findings where another lesson of the node passed too."""
    if not can_act(user, job):
        raise NotAllowed("这节课不在你的审核层级")
    if action not in records.ACTIONS:
        raise BadInput("请选择通过、退回或不通过")
    reason = _text(reason, max_chars)
    if action != "pass" and not reason:
        raise BadInput("退回或不通过须写明理由")
    if action == "pass":
        selection.hold_province(session, selection.province_of(job.region))
    if action == "pass" and not unreviewed_ok and (left := unreviewed_fails(session, job)):
        raise BadInput(f"还有 {left} 条不合格问题未确认或排除：请先审看，或勾选“仍然通过”后再提交")
    if action == "pass" and not over_quota_ok and (full := quotas.over_quota(session, job)):
        raise BadInput(f"{full.province} {full.year} 年名额 {full.quota} 个，已通过 {full.passed} 个：再通过将超出名额。"
                       f"确需报送，请勾选“超出名额仍然通过”后再提交")
    try:
        row = records.add_decision(session, job, action, reason, user.name, user.region, seen_version)
    except records.DecisionConflict:
        raise NotAllowed("这节课刚刚已有审核决定，请刷新页面查看。") from None
    rules = selection_config.load()
    selection.after_decision(session, job, row, rules.severity.same_node, rules.same_node_from)
    session.flush()
    return Outcome(row, row.next_level)


def undoable(session: Session, user: User, job: Job) -> Decision | None:
    """My level's latest decision on the job, while it may still be withdrawn: it is the job's latest
    decision, and after a pass the next level has not opened the lesson yet."""
    history = records.decisions_of(session, job.id)
    last = history[-1] if history else None
    if last is None or last.action not in records.ACTIONS or last.level != user.level:
        return None
    if not within(job.region, user.region) or job.level != (last.next_level or last.level):
        return None
    if last.next_level and records.opened_since(session, job.id, last.next_level, last):
        return None
    return last


def withdraw(session: Session, user: User, job: Job, max_chars: int, reason: str = "") -> Decision:
    """Take my level's latest decision back (a withdrawal row; a pass brings the lesson back)."""
    last = undoable(session, user, job)
    if last is None:
        raise NotAllowed("这个决定已不能撤回（下一级已打开这节课，或已有新的决定）")
    try:
        row = records.add_withdrawal(session, job, last, _text(reason, max_chars), user.name, user.region)
    except records.DecisionConflict:
        raise NotAllowed("这节课刚刚已有审核决定，请刷新页面查看。") from None
    session.flush()
    return row


def review_many(session: Session, user: User, job: Job, code: str, status: str, note: str,
                max_chars: int) -> list[FindingReview]:
    """Confirm or dismiss every `info` finding of one code at once (the grouped 提示 cards)."""
    if not can_act(user, job):
        raise NotAllowed("这节课不在你的审核层级")
    seqs = [f.seq for f in job.findings if f.code == code and f.severity == "info"]
    if not seqs:
        raise BadInput("没有这类提示")
    if status not in records.FINDING_STATUSES:
        raise BadInput("请选择确认或排除")
    note = _text(note, max_chars)
    return [records.add_finding_review(session, job, seq, status, note, user.name) for seq in seqs]


def _text(value: str, max_chars: int) -> str:
    value = (value or "").strip()
    if len(value) > max_chars:
        raise BadInput(f"说明不能超过 {max_chars} 字")
    return value
