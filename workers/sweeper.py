"""The sweeper: every job ends in done or error within a deadline derived from its duration.

Messages can be lost (Redis unreachable when a retry or give_up is enqueued, a worker
killed between steps, Redis restarted without persistence); a report folder can be
unwritable for a while. Each worker runs `Sweeper` (one at a time, by a Redis lock) every
`farm.sweep_interval_s` of the server configuration; `lessonqc sweep` does one pass.

A job is stale when it has run longer than its time budget: the time limits of its
longest message and of its report step, times the tries each may take (retries + 1).
A stale job's missing messages are sent again (`farm.redrives` times, all steps are
idempotent); past the last deadline its missing tasks end as stage errors and its report
is published here. Jobs whose report could not be written are published again. Jobs the
index still has as unfinished but Redis lost entirely (flushed) are re-created from the
index (workers/recovery.py).
"""
from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from pipelines import plan as plans
from pipelines.media.limits import server

from . import codec, jobs, recovery
from .jobs import Farm, JobSpec, Task
from .settings import FarmSettings, for_profile
from .state import JobNotFound

log = logging.getLogger(__name__)


def sweep(farm: Farm, now: datetime | None = None) -> dict[str, int]:
    """One pass over the active jobs, the unpublished reports and the jobs Redis lost; returns what it did."""
    now = now or farm.store.now()  # Redis's clock: a host whose own clock is off judges no job by it
    done = {"redriven": 0, "failed": 0, "republished": 0}
    for job_id in sorted(farm.store.active()):
        try:
            done[_sweep_job(job_id, farm, now)] += 1
        except KeyError:
            pass
        except Exception:  # noqa: BLE001 - one broken job must not stop the pass
            log.warning("sweeper: job %s", job_id, exc_info=True)
    for job_id in sorted(farm.store.to_republish()):
        done["republished"] += _republish(job_id, farm)
    done.update(recovery.recover(farm, now))
    done["webhooks"] = _redrive_webhooks(farm, now)
    done["rekeyed"] = _rekey_prints(farm)
    return done


def _rekey_prints(farm: Farm) -> int:
    """Index fingerprints kept under an older keys' form (after migration 0008); nothing without a ledger."""
    if farm.ledger is None:
        return 0
    try:
        return farm.ledger.rekey_prints()
    except Exception:  # noqa: BLE001 - the index away: the next pass goes on
        log.warning("sweeper: cannot index older fingerprints", exc_info=True)
        return 0


def _redrive_webhooks(farm: Farm, now: datetime) -> int:
    """Queue again the webhook events the index holds as unsent (nothing without a ledger)."""
    if farm.ledger is None:
        return 0
    try:
        return farm.ledger.redrive_webhooks(now)
    except Exception:  # noqa: BLE001 - the index away: the next pass tries again
        log.warning("sweeper: cannot re-drive webhooks", exc_info=True)
        return 0


def _sweep_job(job_id: str, farm: Farm, now: datetime) -> str:
    store = farm.store
    try:
        fields = store.job(job_id)
    except JobNotFound:
        store.backend.srem(f"{store.prefix}:active", job_id)
        raise KeyError(job_id) from None
    if store.is_finished(job_id):
        store.backend.srem(f"{store.prefix}:active", job_id)
        raise KeyError(job_id)
    spec = JobSpec.from_dict(json.loads(fields["spec"]))
    settings = _settings(spec, farm)
    age = (now - datetime.fromisoformat(fields["submitted_at"])).total_seconds()
    last = max(fields.get(k) or "" for k in ("submitted_at", "progress_at", "redriven_at"))  # ISO UTC: sortable
    quiet = (now - datetime.fromisoformat(last)).total_seconds()
    redrives = int(fields.get("redrives") or 0)
    if quiet < stale_after(spec, farm, settings):  # stale: no step started or ended for that long
        raise KeyError(job_id)
    if redrives < server().farm.redrives:
        store.note(job_id, redrives=str(redrives + 1), redriven_at=now.isoformat(timespec="milliseconds"))
        redrive(spec, farm, settings)
        return "redriven"
    expire(spec, farm, age)
    return "failed"


def _settings(spec: JobSpec, farm: Farm) -> FarmSettings:
    return for_profile(jobs.job_profile(spec, farm.store))


def stale_after(spec: JobSpec, farm: Farm, settings: FarmSettings) -> float:
    """Seconds a job may take before it counts as stale: its longest message and the report step,
    each with every try it may take, within the server's cap on a message's time limit."""
    doc = farm.store.probe(spec.job_id)
    duration = doc["media"]["duration_s"] if doc else 0.0
    cap = server().farm.max_time_limit_s
    longest = min(cap, settings.time_limit_ms(duration) / 1000)
    report = min(cap, settings.time_limit_ms(0) / 1000)
    backoff = settings.max_backoff_s * settings.retries
    return (longest + report) * (settings.retries + 1) + backoff


def redrive(spec: JobSpec, farm: Farm, settings: FarmSettings) -> None:
    """Send again what the job still waits for (duplicates are harmless: results are recorded once)."""
    log.warning("sweeper: job %s is stale; sending its missing messages again", spec.job_id)
    plan = farm.store.plan(spec.job_id)
    if plan is None:
        farm.outbox.send_probe(spec, settings.time_limit_ms(0))
        return
    doc = farm.store.probe(spec.job_id)
    parts = farm.store.parts(spec.job_id)
    tasks = [Task.from_dict(t) for t in plan]
    for task in (t for t in tasks if t.key not in parts):
        farm.outbox.send_task(spec, task, settings.time_limit_ms(task.media_seconds(doc["media"]["duration_s"])))
    if all(t.key in parts for t in tasks):
        farm.outbox.send_report(spec, settings.time_limit_ms(0))


def expire(spec: JobSpec, farm: Farm, age: float) -> None:
    """Past its deadline: missing tasks end as stage errors and the report is published now."""
    plan = farm.store.plan(spec.job_id)
    log.error("sweeper: job %s had no result after %.0f s; ending it", spec.job_id, age)
    if plan is None:
        jobs.fail_job(spec, farm, TimeoutError(f"probe did not finish within {age:.0f} s"), "probe")
        return
    parts = farm.store.parts(spec.job_id)
    for task in (Task.from_dict(t) for t in plan):
        if task.key not in parts:
            failed = plans.failed(task, f"no result within {age:.0f} s (message lost or worker hung)")
            farm.store.complete(spec.job_id, task.key, codec.part_to_dict(failed), jobs.part_status(failed, task.queue))
    jobs.finalize(spec, farm)


def _republish(job_id: str, farm: Farm) -> int:
    try:
        spec = JobSpec.from_dict(json.loads(farm.store.job(job_id)["spec"]))
        return int(jobs.republish(spec, farm))
    except OSError as exc:
        log.info("sweeper: report of job %s still cannot be written: %s", job_id, exc)
    except Exception:  # noqa: BLE001
        log.warning("sweeper: republishing job %s", job_id, exc_info=True)
    return 0


class Sweeper(Middleware):
    """Runs `sweep` in each worker process every `farm.sweep_interval_s`; a Redis lock lets one at a time."""

    def __init__(self, make_farm: Any):
        self.make_farm = make_farm
        self.stop = threading.Event()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        threading.Thread(target=self._loop, name="lessonqc-sweeper", daemon=True).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.stop.set()

    def _loop(self) -> None:
        interval = server().farm.sweep_interval_s
        while not self.stop.wait(interval):
            try:
                farm = self.make_farm()
                if farm.store.backend.take_lock(f"{farm.store.prefix}:sweeper", int(interval)):
                    sweep(farm)
            except Exception:  # noqa: BLE001 - Redis away: try again next time
                log.warning("sweeper pass failed", exc_info=True)
