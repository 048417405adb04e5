"""The farm's side of the durable index: record submissions, index published reports, rebuild the index.

The index is a SQLite file in the report store unless LESSONQC_DATABASE_URL names a database.
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.exc import SQLAlchemyError

from index import db, repository
from index import decisions as review_records
from index.models import Job

from . import callbacks, originality, reportstore, serviceconfig, settings
from .jobs import Submitted

log = logging.getLogger(__name__)


def database() -> db.Database:
    """This process's index (migrated to head on first use)."""
    return db.open_database(db.database_url(settings.report_root()))


def record_submission(new: repository.NewJob) -> None:
    """A queued job with its lesson metadata (before its first message is sent)."""
    with database().session() as session:
        repository.add_job(session, new)


def withdraw_submission(job_id: str) -> None:
    """Forget a submission the queue never took, so the sweeper does not run it behind the caller's back."""
    with database().session() as session:
        repository.withdraw(session, job_id)


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


class IndexLedger:
    """The index as the sweeper's durable record of submissions (workers.jobs.Ledger)."""

    def unfinished(self, before: datetime) -> list[Submitted]:
        """Queued/running jobs submitted before `before`, read into plain data (no session outlives this)."""
        with database().session() as session:
            return [Submitted(j.id, j.source, j.profile, j.media_path or j.source, j.spec, j.profile_snapshot,
                              j.recoveries or 0) for j in repository.unfinished(session, before)]

    def count_recovery(self, job_id: str) -> int:
        with database().session() as session:
            return repository.count_recovery(session, job_id)


def index_published(job_id: str, folder: Path) -> Job | None:
    """Index the report published in `folder` (idempotent); None when there is no report there."""
    doc = reportstore.read(folder.parent, job_id)
    if doc is None:
        return None
    job = repository.upsert_report(database(), doc, str(folder))
    originality.store_published(database(), doc, folder)
    return job


def after_publish(send_callback: Callable[[str], None]) -> Callable[[str, Path], None]:
    """The report step's hook: index the report, then queue its callback when the job named one."""
    def hook(job_id: str, folder: Path) -> None:
        job = index_published(job_id, folder)
        if job is not None and job.callback_url and job.callback_state != "delivered":
            send_callback(job_id)
    return hook


def reindex(root: Path | None = None) -> int:
    """Upsert every report in the store into the index; return how many reports were read."""
    root = root or settings.report_root()
    count = 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []:
        if index_published(folder.name, folder) is not None:
            count += 1
    return count


def deliver_callback(job_id: str, settings_: serviceconfig.Callbacks) -> None:
    """One delivery of a job's callback; its outcome is recorded on the job (CallbackFailed re-raised)."""
    with database().session() as session:
        job = repository.get_job(session, job_id)
        if job is None or not job.callback_url or job.callback_state == "delivered":
            return
        url, folder = job.callback_url, Path(job.report_dir or settings.report_root() / job_id)
    doc = reportstore.read(folder.parent, job_id)
    if doc is None:
        raise callbacks.CallbackFailed(f"job {job_id}: no published report in {folder}")
    payload = callbacks.summary(doc, serviceconfig.load().public_url)
    try:
        callbacks.deliver(url, payload, settings_)
    except callbacks.CallbackRefused as exc:  # no longer allowed (config changed): retrying cannot help
        _record_callback(job_id, "failed", str(exc))
        return
    except callbacks.CallbackFailed as exc:
        _record_callback(job_id, "pending", str(exc))
        raise
    _record_callback(job_id, "delivered", None)


def deliver_decision(job_id: str, decision_id: int, settings_: serviceconfig.Callbacks) -> None:
    """One delivery of a level's decision to the job's callback URL (CallbackFailed re-raised for a retry)."""
    with database().session() as session:
        job = repository.get_job(session, job_id)
        found = [r for r in review_records.records(session, job_id) if r.id == decision_id]
        url = job.callback_url if job is not None else None
    if not url or not found:
        return
    payload = callbacks.decision_summary(job_id, review_records.as_dict(found[0]), serviceconfig.load().public_url)
    try:
        callbacks.deliver(url, payload, settings_)
    except callbacks.CallbackRefused as exc:  # no longer allowed (config changed): retrying cannot help
        log.warning("job %s: decision callback refused: %s", job_id, exc)


def callback_gave_up(job_id: str) -> None:
    with database().session() as session:
        job = repository.get_job(session, job_id)
        if job is not None and job.callback_state != "delivered":
            job.callback_state = "failed"


def _record_callback(job_id: str, state: str, error: str | None) -> None:
    with database().session() as session:
        job = repository.get_job(session, job_id)
        if job is not None:
            job.callback_state, job.callback_error = state, error
            job.callback_attempts = (job.callback_attempts or 0) + 1
