"""Jobs Redis forgot: the index says queued or running, Redis has no state for them.

A FLUSHALL, or Redis restarted without persistence, loses the job state and the queued
messages; the active-set sweep cannot see such a job. The index records each submission
with its spec and profile snapshot, so the sweeper re-creates the job state and sends its
probe again (`farm.redrives` times, counted in the index). A row recorded before specs
were kept, or a job that keeps vanishing, ends with an error report saying so. Only jobs
submitted `farm.recover_after_s` ago are looked at: submit writes the index just before Redis.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pipelines.media.limits import server

from . import jobs, reportstore
from .jobs import Farm, JobSpec, Ledger, Submitted
from .settings import defaults
from .state import JobExists, JobLost

log = logging.getLogger(__name__)

LOST = "任务记录已从队列丢失 / the job record was lost from the queue"


def recover(farm: Farm, now: datetime) -> dict[str, int]:
    """One pass over the index's unfinished jobs; returns what it did (nothing without a ledger)."""
    done = {"recovered": 0, "lost": 0, "reindexed": 0}
    if farm.ledger is None:
        return done
    try:
        unfinished = farm.ledger.unfinished(now - timedelta(seconds=server().farm.recover_after_s))
    except Exception:  # noqa: BLE001 - the index away: the next pass tries again
        log.warning("sweeper: cannot read the unfinished jobs of the index", exc_info=True)
        return done
    for job in unfinished:
        try:
            if outcome := _recover(job, farm, farm.ledger):
                done[outcome] += 1
        except Exception:  # noqa: BLE001 - one broken job must not stop the pass
            log.warning("sweeper: recovering job %s", job.job_id, exc_info=True)
    return done


def _recover(job: Submitted, farm: Farm, ledger: Ledger) -> str | None:
    if farm.store.field(job.job_id, "spec") is not None:
        return None  # Redis has it: the active-set sweep looks after it
    if reportstore.read(farm.report_root, job.job_id) is not None:
        if farm.on_publish is not None:  # published, the index not told (e.g. it was down then)
            farm.on_publish(job.job_id, reportstore.job_dir(farm.report_root, job.job_id))
        return "reindexed"
    spec = _spec(job)
    try:
        farm.store.create(job.job_id, spec.to_dict(), job.snapshot)
    except JobExists:
        return None  # re-created meanwhile (another sweep, a late worker)
    if job.spec is None:
        return _lost(spec, farm, f"{LOST}; it was recorded without its spec: submit the video again")
    if job.recoveries >= server().farm.redrives:
        return _lost(spec, farm, f"{LOST} {job.recoveries + 1} times (Redis flushed or restarted without "
                                 "persistence); submit the video again")
    tries = ledger.count_recovery(job.job_id)
    log.warning("sweeper: job %s was lost from Redis; queued again (recovery %d)", job.job_id, tries)
    farm.outbox.send_probe(spec, defaults().time_limit_ms(0))
    return "recovered"


def _spec(job: Submitted) -> JobSpec:
    """The recorded spec, or (an old row) one built from the row: enough for its error report."""
    if job.spec is not None:
        return JobSpec.from_dict(job.spec)
    return JobSpec(job.job_id, job.media, job.profile, source=job.source)


def _lost(spec: JobSpec, farm: Farm, message: str) -> str:
    log.error("sweeper: job %s: %s", spec.job_id, message)
    jobs.fail_job(spec, farm, JobLost(message), "probe")
    return "lost"
