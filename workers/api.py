"""The platform's Python interface to the farm: submit a video, read its status and its report.

    from workers import api
    job_id = api.submit("/media/uploads/lesson.mp4", profile="micro-primary")
    api.status(job_id)    # {"state": "running", "tasks": {"signal": {"state": "done", ...}, ...}}
    api.report(job_id)    # report.json as a dict once published, else None
"""
from __future__ import annotations

import copy
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from index import repository
from pipelines import profile as profiles
from pipelines.package.check import category_of
from pipelines.report.document import new_job_id
from pipelines.selection.metadata import LessonMeta, MetadataInvalid

from . import broker as brokers
from . import callbacks, indexing, paths, reportstore, retention, serviceconfig, settings, validation
from .jobs import JobSpec
from .reportstore import checked_id
from .state import DONE, ERROR, JobExists, JobFailed, JobNotFound


INLINE = "inline"   # the name of a profile given inline without one


@dataclass(frozen=True)
class Details:
    """What the platform says about a submission besides the video (kept in the index)."""

    region: str | None = None
    # teacher, school, subject, grade, title, category, node {stage, subject, edition, volume, unit, lesson}:
    # a mapping (checked as LessonMeta.from_dict does) or a LessonMeta
    lesson: Mapping[str, Any] | LessonMeta = field(default_factory=dict)
    callback_url: str | None = None
    submitted_by: str | None = None
    media_sha256: str | None = None
    media_size: int | None = None


def submit(path: str | Path, profile: str | Mapping[str, Any] = "micro-primary", languages: Sequence[str] = (),
           source: str | None = None, job_id: str | None = None, skip: Sequence[str] = (),
           details: Details = Details(), category: str = "") -> str:
    """Index and enqueue one video (or, with `category`, a submission package: a folder or .zip);
    return its job id. `profile` is a built-in name or a profile file's path, or a profile given inline
    (a mapping, validated as a file's content would be). Raises MediaPathRefused / SubmissionInvalid /
    ProfileError / UnknownCategory / CallbackRefused / BadJobId / JobExists at once."""
    from .actors import probe_job

    real = paths.resolve(path)
    snapshot = _snapshot(profile, languages)  # validated here, once; workers use this copy
    validation.check(real, str(path), languages, skip)
    lesson = _lesson(details.lesson)
    if category:
        category_of(category, snapshot)
    if details.callback_url:
        callbacks.check_url(details.callback_url, serviceconfig.load().callbacks)
    named = str(profile) if isinstance(profile, (str, Path)) else snapshot.name
    spec = JobSpec(checked_id(job_id or new_job_id()), str(real), named, tuple(languages), source or str(path),
                   tuple(skip), category, lesson)
    if brokers.store().state(spec.job_id) or reportstore.read(settings.report_root(), spec.job_id) is not None:
        raise JobExists(f"job {spec.job_id} already exists: job ids are never reused")
    frozen = {"name": snapshot.name, "data": snapshot.data}
    indexing.record_submission(repository.NewJob(
        spec.job_id, spec.source, spec.profile, str(real), details.media_sha256, details.media_size, details.region,
        lesson=lesson, callback_url=details.callback_url, submitted_by=details.submitted_by,
        spec=spec.to_dict(), snapshot=frozen))
    try:
        brokers.store().create(spec.job_id, spec.to_dict(), frozen)
        probe_job.send_with_options(args=(spec.to_dict(),), time_limit=settings.defaults().time_limit_ms(0))
    except Exception:  # Redis away: the caller gets the error, and no index row lives on to be recovered
        indexing.withdraw_submission(spec.job_id)
        raise
    return spec.job_id


def _lesson(lesson: Mapping[str, Any] | LessonMeta) -> dict[str, Any]:
    """The metadata as the job spec and the index keep it; SubmissionInvalid (lesson.invalid) when wrong."""
    try:
        meta = lesson if isinstance(lesson, LessonMeta) else LessonMeta.from_dict(lesson)
    except MetadataInvalid as exc:
        raise validation.SubmissionInvalid("lesson.invalid", f"lesson {exc}") from None
    return meta.to_dict()


def _snapshot(profile: str | Mapping[str, Any], languages: Sequence[str]) -> profiles.Profile:
    if isinstance(profile, (str, Path)):
        return profiles.load(profile, list(languages))
    name = str(profile.get("name") or INLINE)[:100]
    merged = profiles.from_snapshot(copy.deepcopy(dict(profile)), name).data
    for lang in languages:
        for kind in ("speech", "text"):
            if lang not in merged["languages"][kind]:
                merged["languages"][kind].append(lang)
    return profiles.from_snapshot(merged, name)


def notify_decision(job_id: str, decision_id: int) -> None:
    """Queue the signed review.decided webhook of a job that named a callback URL (the console calls this)."""
    from .actors import deliver_webhook

    delivery_id = indexing.decision_event(job_id, decision_id)
    if delivery_id is not None:
        deliver_webhook.send(delivery_id)


def redeliver(delivery_id: int) -> bool:
    """Send a logged webhook delivery again, with its event id and body (False: no such delivery)."""
    from .actors import deliver_webhook

    if indexing.redeliver(delivery_id) is None:
        return False
    deliver_webhook.send(delivery_id)
    return True


def delete(job_id: str) -> bool:
    """Cancel a job that is still queued or running, delete it from the index and, per
    service.retention, remove its uploaded file and its report. False when no such job is known."""
    checked_id(job_id)
    store, root = brokers.store(), settings.report_root()
    if store.state(job_id) and not store.is_finished(job_id):  # its next steps see it finished and stop
        store.finish(job_id, ERROR, None, None, error="cancelled: the job was deleted")
    where = indexing.forget(job_id)
    if where is None and reportstore.read(root, job_id) is None:
        return False
    policy = serviceconfig.load().retention
    media_path, folder = where or (None, None)
    if policy.delete_upload and media_path:
        retention.remove_upload(job_id, Path(media_path))
    if policy.delete_report:
        shutil.rmtree(Path(folder) if folder else reportstore.job_dir(root, job_id), ignore_errors=True)
    reportstore.cleanup(root, job_id)
    return True


def status(job_id: str) -> dict[str, Any]:
    """State (queued/running/done/error), verdict and per-task states; a published report decides the state.
    A job only the index knows (Redis lost it; the sweeper queues it again) is queued/running as indexed."""
    checked_id(job_id)
    try:
        live = brokers.store().status(job_id)
    except JobNotFound:
        live = None
    if live is not None and live["state"] in (DONE, ERROR) and (live.get("report") or live["state"] == DONE):
        return live  # (an `error` without a report may have its report published later: see below)
    doc = reportstore.read(settings.report_root(), job_id)  # published, and the job state not yet marked
    if doc is None:
        if live is None:
            return _indexed(job_id)
        return live
    return {"job_id": job_id, "source": doc["source"], "profile": doc["profile"], **(live or {"tasks": {}}),
            "state": ERROR if doc["verdict"] == "error" else DONE, "verdict": doc["verdict"], "error": None,
            "report": str(reportstore.job_dir(settings.report_root(), job_id))}


def _indexed(job_id: str) -> dict[str, Any]:
    indexed = indexing.unfinished_status(job_id)
    if indexed is None:
        raise JobNotFound(f"unknown job {job_id}")
    return indexed


def report(job_id: str) -> dict[str, Any] | None:
    """The published report.json, or None while the job runs. Raises JobNotFound for unknown ids."""
    checked_id(job_id)
    doc = reportstore.read(settings.report_root(), job_id)
    if doc is None:
        status(job_id)
    return doc


def report_dir(job_id: str) -> Path:
    """Where the job's report.json / report.html / thumbs are (once published)."""
    return reportstore.job_dir(settings.report_root(), job_id)


def wait(job_id: str, timeout_s: float = 3600.0, poll_s: float = 0.5) -> dict[str, Any]:
    """Block until the job's report is published (TimeoutError after `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while (doc := report(job_id)) is None:
        state = status(job_id)
        if state.get("state") == ERROR and not state.get("report"):
            raise JobFailed(f"job {job_id} failed without a report: {state.get('error')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id}: no report after {timeout_s:.0f} s")
        time.sleep(poll_s)
    return doc
