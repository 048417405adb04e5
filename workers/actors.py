"""Thin dramatiq actors over workers/jobs.py, one per queue.

Run them with `lessonqc worker --queues ...` or the plain CLI:
  dramatiq workers.actors --queues speech --processes 1 --threads 1
Queues: probe (ffprobe, fast) -> media (signal pass + lab) | ocr (on-screen segments)
| speech (speech segments, GPU-capable) -> report (merge + publish, index) -> callback (signed POST).
Messages carry a JobSpec dict (job id, media reference, profile, languages) and,
for tasks, a Task dict (stage names, segment start/length): JSON-safe, nothing else.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker

from pipelines.errors import InputUnreadable, MediaPathRefused, ModelMissing, ProfileError, ToolTimeout
from pipelines.media.limits import server

from . import broker as brokers
from . import callbacks, indexing, jobs, metrics, originality, serviceconfig, settings
from .connection import patiently
from .jobs import JobSpec, Task
from .reportstore import BadJobId
from .sweeper import Sweeper
from .state import ERROR

log = logging.getLogger(__name__)
brokers.setup()

# Never retried: bad input, a forged job id, a missing model, and a tool that hung past its timeout
# (it would hang again, each time for the message's whole time limit).
PERMANENT = (InputUnreadable, MediaPathRefused, ProfileError, ModelMissing, BadJobId, ToolTimeout)
_FARM = settings.defaults()


def should_retry(retries: int, exc: BaseException) -> bool:
    """Retry transient faults (tool crash, timeout, Redis hiccup) up to farm.retries; never bad input."""
    return retries < _FARM.retries and not isinstance(exc, PERMANENT)


RETRIES: dict[str, Any] = {"retry_when": should_retry, "on_retry_exhausted": "give_up",
                           "min_backoff": int(_FARM.min_backoff_s * 1000), "max_backoff": int(_FARM.max_backoff_s * 1000)}


class ActorOutbox:
    """Sends a job's next messages to the actors below, each with its time limit."""

    def send_task(self, spec: JobSpec, task: Task, time_limit_ms: int) -> None:
        TASK_ACTORS[task.queue].send_with_options(args=(spec.to_dict(), task.to_dict()), time_limit=time_limit_ms)

    def send_report(self, spec: JobSpec, time_limit_ms: int) -> None:
        report_job.send_with_options(args=(spec.to_dict(),), time_limit=time_limit_ms)

    def send_probe(self, spec: JobSpec, time_limit_ms: int) -> None:
        probe_job.send_with_options(args=(spec.to_dict(),), time_limit=time_limit_ms)


def farm() -> jobs.Farm:
    hook = indexing.after_publish(lambda delivery_id: deliver_webhook.send(delivery_id))
    return jobs.Farm(brokers.store(), ActorOutbox(), settings.report_root(), on_publish=hook,
                     on_start=indexing.mark_running,
                     ledger=indexing.IndexLedger(lambda delivery_id: deliver_webhook.send(delivery_id)),
                     index=originality.IndexLessons(indexing.database))


def counted(spec: JobSpec, key: str, stage: str, run: Callable[[], None], crashed: Callable[[str], None]) -> None:
    """Run one delivery, counting deliveries that never ended (the worker died: native crash, OOM kill).

    A message whose worker died `max_crashes` times is not run again: `crashed` ends its stage as an error.
    The end of a delivery is recorded even when Redis is away meanwhile (tried until it answers).
    """
    store = brokers.store()
    crashes = store.begin_delivery(spec.job_id, key)
    if crashes >= server().farm.max_crashes:
        log.error("job %s: the worker died %d times running %s; the stage ends as an error", spec.job_id, crashes, stage)
        crashed(f"{stage}: the worker died {crashes} times running it (native crash or out of memory)")
        return
    try:
        run()
    finally:  # given up while Redis does not answer, a delivery that ended would count as a crash
        patiently(lambda: store.end_delivery(spec.job_id, key), f"ending delivery {key} of job {spec.job_id}")


def _task(spec: dict[str, Any], task: dict[str, Any]) -> None:
    parsed, job = Task.from_dict(task), JobSpec.from_dict(spec)

    def run() -> None:
        part = jobs.run_task(job, parsed, farm())
        if part is not None:
            metrics.observe_runs(parsed.queue, part.runs)
    counted(job, parsed.key, "+".join(parsed.stages), run, lambda error: jobs.task_exhausted(job, parsed, error, farm()))


@dramatiq.actor(queue_name="probe", **RETRIES)
def probe_job(spec: dict[str, Any]) -> None:
    """Probe, plan and fan out one job."""
    job = JobSpec.from_dict(spec)
    counted(job, "probe", "probe", lambda: jobs.start(job, farm()), lambda error: jobs.task_exhausted(job, None, error, farm()))


@dramatiq.actor(queue_name="media", **RETRIES)
def media_task(spec: dict[str, Any], task: dict[str, Any]) -> None:
    """The signal pass (with lab sampling), or any stage mapped to the media queue."""
    _task(spec, task)


@dramatiq.actor(queue_name="ocr", **RETRIES)
def ocr_task(spec: dict[str, Any], task: dict[str, Any]) -> None:
    """One on-screen text segment."""
    _task(spec, task)


@dramatiq.actor(queue_name="speech", **RETRIES)
def speech_task(spec: dict[str, Any], task: dict[str, Any]) -> None:
    """One speech segment (the model is loaded once per process: workers.warmup)."""
    _task(spec, task)


@dramatiq.actor(queue_name="report", **RETRIES)
def report_job(spec: dict[str, Any]) -> None:
    """Merge the parts of a finished job and publish its report."""
    job = JobSpec.from_dict(spec)
    counted(job, "report", "report", lambda: metrics.job_finished(jobs.finalize(job, farm())),
            lambda error: _end_unpublished(job, error))


@dramatiq.actor(queue_name="report", max_retries=3)
def give_up(message: dict[str, Any], retry_info: dict[str, Any]) -> None:
    """A message ran out of retries: its stages become errors in the report, so no job is left hanging."""
    args, error = message["args"], _last_line(message.get("options", {}).get("traceback"))
    try:
        spec = JobSpec.from_dict(args[0])
    except BadJobId as exc:
        log.error("dropped a message with a forged job id: %s", exc)
        return
    log.error("job %s: %s gave up after %s retries: %s", spec.job_id, message["actor_name"],
              retry_info.get("retries"), error)
    if message["actor_name"] == report_job.actor_name:
        _end_unpublished(spec, f"report step failed: {error}")
        return
    task = Task.from_dict(args[1]) if len(args) > 1 else None
    try:
        jobs.task_exhausted(spec, task, error, farm())
    except Exception as exc:  # noqa: BLE001 - give_up must not fail the way the step did
        log.error("job %s: giving up failed too (%s)", spec.job_id, exc)
        _end_unpublished(spec, f"{error}; then {type(exc).__name__}: {exc}")


def _end_unpublished(spec: JobSpec, error: str) -> None:
    """End the job as `error` with the reason in its state; the sweeper publishes a report later."""
    store = brokers.store()
    store.finish(spec.job_id, ERROR, None, None, error=error)
    store.mark_republish(spec.job_id, "report" if store.plan(spec.job_id) else f"fail:probe:{error}")


def _last_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else "unknown error"


_CALLBACKS = serviceconfig.load().callbacks  # retry options only: the allow-list is read per attempt


@dramatiq.actor(queue_name="callback", max_retries=_CALLBACKS.retries, min_backoff=int(_CALLBACKS.min_backoff_s * 1000),
                max_backoff=int(_CALLBACKS.max_backoff_s * 1000), on_retry_exhausted="webhook_gave_up")
def deliver_webhook(delivery_id: int) -> None:
    """POST one webhook delivery, signed (retried with backoff while a later attempt may succeed).
    One attempt of a delivery at a time: a message requeued while its first worker still sends it
    (dead-worker check after a Redis outage) waits its turn, then finds the delivery no longer pending."""
    settings_ = serviceconfig.load().callbacks
    try:
        with brokers.store().exclusive(f"webhook:{delivery_id}", int(settings_.timeout_s * 2) + 5) as mine:
            if not mine:
                raise callbacks.CallbackFailed(f"webhook delivery {delivery_id}: another worker is sending it now")
            indexing.deliver(delivery_id, settings_, brokers.store())
    except callbacks.CallbackFailed as exc:  # expected: logged in the delivery log, retried without a traceback
        log.warning("%s", exc)
        raise dramatiq.Retry(str(exc)) from None


@dramatiq.actor(queue_name="callback", max_retries=3)
def webhook_gave_up(message: dict[str, Any], retry_info: dict[str, Any]) -> None:
    """A delivery ran out of retries: it is marked failed (a report stays published; a decision stands)."""
    delivery_id = message["args"][0]
    log.warning("webhook delivery %s: gave up after %s retries", delivery_id, retry_info.get("retries"))
    indexing.gave_up(delivery_id)


TASK_ACTORS = {"media": media_task, "ocr": ocr_task, "speech": speech_task}
if not isinstance(brokers.current(), StubBroker):  # each worker process sweeps stale jobs (one at a time)
    brokers.current().add_middleware(Sweeper(farm))
