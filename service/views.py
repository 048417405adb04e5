"""Index rows and live farm state -> API answer models."""
from __future__ import annotations

import logging
from typing import Any

import redis

from index import repository
from index.models import Job
from workers import api as farm_api
from workers.state import JobNotFound

from . import schemas

log = logging.getLogger(__name__)
LESSON_KEYS = ("teacher", "school", "subject", "grade", "title", "category")


def links(job_id: str) -> dict[str, str]:
    base = f"/api/v1/jobs/{job_id}"
    return {"self": base, "report": f"{base}/report", "report_html": f"{base}/report.html",
            "artifacts": f"{base}/artifacts", "video": f"{base}/video"}


def lesson(job: Job) -> schemas.Lesson:
    row = job.lesson
    if row is None:
        return schemas.Lesson()
    node = repository.node_of(row)
    return schemas.Lesson.model_construct(**{k: getattr(row, k) for k in LESSON_KEYS},
                                          node=schemas.Node.model_construct(**node) if node else None)


def summary(job: Job, codes: list[str], status: str | None = None) -> schemas.JobSummary:
    return schemas.JobSummary(id=job.id, status=status or job.status, verdict=job.verdict, profile=job.profile,
                              source=job.source, region=job.region, level=job.level, submitted_at=job.submitted_at,
                              finished_at=job.finished_at, codes=codes, lesson=lesson(job))


def live_status(job_id: str) -> dict[str, Any] | None:
    """The farm's view (Redis job state, or the published report); None when unknown or unreachable."""
    try:
        return farm_api.status(job_id)
    except JobNotFound:
        return None
    except redis.RedisError as exc:
        log.warning("job %s: farm state unavailable: %s", job_id, exc)
        return None


def stages(job: Job, live: dict[str, Any] | None) -> dict[str, schemas.StageState]:
    """The report's stages once indexed, else the farm's per-task states."""
    if job.stages:
        return {name: schemas.StageState(state=s.get("status", "done"), seconds=s.get("seconds"), error=s.get("error"))
                for name, s in job.stages.items()}
    tasks = (live or {}).get("tasks") or {}
    return {key: schemas.StageState(state=t.get("state", "queued"), queue=t.get("queue"), seconds=t.get("seconds"),
                                    error=t.get("error")) for key, t in tasks.items()}


def detail(job: Job, codes: list[str]) -> schemas.JobDetail:
    live = None if job.stages else live_status(job.id)
    status = job.status
    if live and job.status not in ("done", "error") and live.get("state") in schemas.Status.__args__:
        status = live["state"]
    base = summary(job, codes, status).model_dump()
    return schemas.JobDetail(**base, media_sha256=job.media_sha256, media_size=job.media_size,
                             stages=stages(job, live), callback_state=job.callback_state, links=links(job.id))
