"""The farm's side of the durable index: record submissions, index published reports, rebuild the index.

The index is a SQLite file in the report store unless LESSONQC_DATABASE_URL names a database.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from pipelines.media.limits import server
from pipelines.originality import config as originality_config

from index import db, repository, webhooks
from index import decisions as review_records
from index.models import Job, WebhookDelivery

from . import callbacks, originality, reportstore, retention, serviceconfig, settings
from .jobs import Submitted
from .state import JobStore

log = logging.getLogger(__name__)


def database() -> db.Database:
    """This process's index (migrated to head on first use)."""
    return db.open_database(db.database_url(settings.report_root()))


def record_submission(new: repository.NewJob) -> None:
    """A queued job with its lesson metadata (before its first message is sent)."""
    with database().session() as session:
        repository.add_job(session, new)
        if new.callback_url:  # the subscriber can read its signing secret as soon as it has submitted
            webhooks.ensure_secret(session, webhooks.subscriber_of(new.submitted_by))


def withdraw_submission(job_id: str) -> None:
    """Forget a submission the queue never took, so the sweeper does not run it behind the caller's back."""
    with database().session() as session:
        repository.withdraw(session, job_id)


def forget(job_id: str) -> tuple[str | None, str | None] | None:
    """Delete a job's index rows (lesson, findings, reviews, deliveries go with it); its (media_path,
    report_dir), or None when the index does not know it."""
    with database().session() as session:
        job = repository.get_job(session, job_id)
        if job is None:
            return None
        where = (job.media_path, job.report_dir)
        repository.delete_job(session, job_id)
        return where


def mark_running(job_id: str) -> None:
    """The probe step started: a queued job becomes running (best effort: the farm goes on without it)."""
    try:
        with database().session() as session:
            repository.mark_running(session, job_id)
    except SQLAlchemyError as exc:
        log.warning("job %s: could not mark it running in the index: %s", job_id, exc)


def unfinished_status(job_id: str) -> dict[str, Any] | None:
    """What the index says of a job still queued or running (None: unknown there, or finished)."""
    with database().session() as session:
        job = repository.get_job(session, job_id)
        if job is None or job.status not in ("queued", "running"):
            return None
        return {"job_id": job_id, "source": job.source, "profile": job.profile, "state": job.status,
                "verdict": None, "report": None, "error": None,
                "submitted_at": job.submitted_at.isoformat(timespec="milliseconds"), "tasks": {}}


@dataclass
class IndexLedger:
    """The index as the sweeper's durable record of submissions and webhook events (workers.jobs.Ledger);
    `send_webhook` queues a delivery (None: webhooks are not re-driven)."""

    send_webhook: Callable[[int], None] | None = None

    def redrive_webhooks(self, now: datetime) -> int:
        """Queue the deliveries `webhooks_due` finds; how many."""
        if self.send_webhook is None:
            return 0
        due = self.webhooks_due(now)
        for delivery_id in due:
            self.send_webhook(delivery_id)
        return len(due)

    def rekey_prints(self) -> int:
        """Index a sweep's share of the fingerprints kept under an older keys' form; how many."""
        return originality.rekey(database(), limit=originality_config.load().lookup.rekey_per_sweep)

    def unfinished(self, before: datetime) -> list[Submitted]:
        """Queued/running jobs submitted before `before`, read into plain data (no session outlives this)."""
        with database().session() as session:
            return [Submitted(j.id, j.source, j.profile, j.media_path or j.source, j.spec, j.profile_snapshot,
                              j.recoveries or 0) for j in repository.unfinished(session, before)]

    def count_recovery(self, job_id: str) -> int:
        with database().session() as session:
            return repository.count_recovery(session, job_id)

    def webhooks_due(self, now: datetime) -> list[int]:
        """Deliveries to queue: decisions whose review.decided event was never recorded (the index was away
        right after the decision committed), made more than a sweep interval ago and within the window."""
        window = serviceconfig.load().callbacks.redrive_window_s
        with database().session() as session:
            missing = webhooks.unrecorded_decisions(session, now - timedelta(seconds=window),
                                                    now - timedelta(seconds=server().farm.sweep_interval_s))
        recorded = [decision_event(job_id, decision_id) for job_id, decision_id in missing]
        return sorted(d for d in recorded if d is not None)


def index_published(job_id: str, folder: Path) -> Job | None:
    """Index the report published in `folder` (idempotent); None when there is no report there."""
    doc = reportstore.read(folder.parent, job_id)
    if doc is None:
        return None
    job = repository.upsert_report(database(), doc, str(folder))
    originality.store_published(database(), doc, folder)
    return job


def after_publish(send_event: Callable[[int], None]) -> Callable[[str, Path], None]:
    """The report step's hook: index the report, then queue its report.published webhook when the job named a URL."""
    def hook(job_id: str, folder: Path) -> None:
        job = index_published(job_id, folder)
        if job is None:
            return
        if job.verdict == "error" and job.media_path:
            _drop_unreadable_upload(job_id, folder, Path(job.media_path))
        delivery_id = report_event(job_id, folder)
        if delivery_id is not None:
            send_event(delivery_id)
    return hook


def _drop_unreadable_upload(job_id: str, folder: Path, media: Path) -> None:
    """An upload the farm found unreadable (a text file, a truncated video) is not kept."""
    doc = reportstore.read(folder.parent, job_id)
    if doc is not None and retention.unreadable(doc) and retention.remove_upload(job_id, media):
        log.info("job %s: removed its unreadable upload", job_id)


def reindex(root: Path | None = None) -> int:
    """Upsert every report in the store into the index; return how many reports were read."""
    root = root or settings.report_root()
    count = 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []:
        if index_published(folder.name, folder) is not None:
            count += 1
    return count


def report_event(job_id: str, folder: Path) -> int | None:
    """The job's report.published delivery (made once, its body fixed), when it is still to be sent."""
    doc = reportstore.read(folder.parent, job_id)
    with database().session() as session:
        job = repository.get_job(session, job_id)
        if job is None or not job.callback_url or doc is None:
            return None
        row = webhooks.report_delivery(session, job_id)
        if row is None:
            body = callbacks.body_of(callbacks.summary(doc, serviceconfig.load().public_url))
            row = webhooks.add_delivery(session, webhooks.REPORT_PUBLISHED, job_id,
                                        webhooks.subscriber_of(job.submitted_by), job.callback_url, body)
        return row.id if row.state == webhooks.PENDING else None


def decision_event(job_id: str, decision_id: int) -> int | None:
    """The review.decided delivery of a decision on a job that named a callback URL, recorded once (its event
    id is fixed by the decision: the console's hook and the sweeper may both get here); None when there is
    nothing (left) to send: no URL, no such decision, or its delivery no longer pending."""
    event_id = webhooks.decision_event_id(decision_id)
    try:
        with database().session() as session:
            row = webhooks.by_event_id(session, event_id) or _new_decision_event(session, job_id, decision_id)
            return row.id if row is not None and row.state == webhooks.PENDING else None
    except IntegrityError:  # recorded by another process meanwhile: that one sends it
        return None


def _new_decision_event(session: Any, job_id: str, decision_id: int) -> WebhookDelivery | None:
    job = repository.get_job(session, job_id)
    found = [r for r in review_records.records(session, job_id) if r.id == decision_id]
    if job is None or not job.callback_url or not found:
        return None
    payload = callbacks.decision_summary(job_id, review_records.as_dict(found[0]), serviceconfig.load().public_url)
    return webhooks.add_delivery(session, webhooks.REVIEW_DECIDED, job_id, webhooks.subscriber_of(job.submitted_by),
                                 job.callback_url, callbacks.body_of(payload), webhooks.decision_event_id(decision_id))


def deliver(delivery_id: int, settings_: serviceconfig.Callbacks, sent: JobStore | None = None) -> None:
    """One attempt of a pending delivery, logged; CallbackFailed when a later attempt may succeed.

    A final outcome (delivered, or refused for good) is remembered in `sent` (the farm's Redis) before the
    index records it: when the index is away just then (a PostgreSQL restart), the retry records the
    remembered outcome instead of POSTing the event a second time (seen across hosts). The memo is keyed by
    the attempts recorded so far, so a later redelivery (`redeliver`) POSTs again."""
    with database().session() as session:
        row = webhooks.get_delivery(session, delivery_id)
        if row is None or row.state != webhooks.PENDING:
            return
        sending = callbacks.Delivery(row.url, row.event_id, row.body,
                                     tuple(webhooks.ensure_secret(session, row.subscriber)))
        memo = f"webhook:{delivery_id}:{row.attempts or 0}"
    known = sent.sent(memo) if sent is not None else None
    if known is not None:
        attempt, retry = webhooks.Attempt(**known), False
    else:
        attempt, retry = callbacks.post(sending, settings_, sent.clock if sent is not None else time.time)
        if sent is not None and attempt.state != webhooks.PENDING:
            _remember(sent, memo, attempt)
    with database().session() as session:
        webhooks.record_attempt(session, delivery_id, attempt)
    if retry:
        raise callbacks.CallbackFailed(f"webhook delivery {delivery_id}: {attempt.error}")


def _remember(sent: JobStore, memo: str, attempt: webhooks.Attempt) -> None:
    """Best effort: without Redis the index may still take the outcome now (else the event is sent again)."""
    try:
        sent.note_sent(memo, dataclasses.asdict(attempt), settings.defaults().state_ttl_s)
    except Exception as exc:  # noqa: BLE001 - a Redis error must not hide an outcome the index can record
        log.warning("%s: outcome not remembered in Redis (%s)", memo, exc)


def gave_up(delivery_id: int) -> None:
    """Retries ran out: the delivery (and a report delivery's job) is marked failed."""
    with database().session() as session:
        webhooks.give_up(session, delivery_id, "retries exhausted")


def redeliver(delivery_id: int) -> WebhookDelivery | None:
    """Make a delivery pending again (same event id and body); the caller queues it."""
    with database().session() as session:
        return webhooks.requeue(session, delivery_id)
