"""Farm metrics for Prometheus, beside dramatiq's own (`dramatiq_messages_total`, durations, ...).

  lessonqc_stage_duration_seconds{stage,queue,status}  histogram: each stage run on a worker
  lessonqc_jobs_finished_total{verdict}                counter: reports published
  lessonqc_queue_depth{queue,kind}                     gauge: ready / delayed (retry backoff) / dead messages

They use prometheus_client's multiprocess mode, set up by dramatiq's Prometheus
middleware (enabled by LESSONQC_PROMETHEUS=1); the exposition server on
`dramatiq_prom_host:dramatiq_prom_port` (default 0.0.0.0:9191) serves all of them.
Without that middleware every function here is a no-op.
"""
from __future__ import annotations

import os
import time
from typing import Any

import redis
from dramatiq.middleware import Middleware

from .settings import QUEUES

SAMPLE_INTERVAL_S = 5.0
_metrics: dict[str, Any] = {}


class FarmMetrics(Middleware):
    """Creates the farm metrics after process boot (after dramatiq's Prometheus middleware)."""

    @property
    def forks(self) -> list:
        return [sample_queue_depth]

    def after_process_boot(self, broker: Any) -> None:
        setup()


def _multiprocess_dir() -> None:
    """Point prometheus_client at dramatiq's metrics folder (before its first import in this process)."""
    from dramatiq.middleware.prometheus import DB_PATH

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = DB_PATH


def setup() -> None:
    """Create the metric objects once per process, in dramatiq's multiprocess metrics folder."""
    _multiprocess_dir()
    import prometheus_client as prom

    if _metrics:
        return

    _metrics["stage"] = prom.Histogram(
        "lessonqc_stage_duration_seconds", "Seconds one stage run took on a worker.", ["stage", "queue", "status"],
        buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 2400, float("inf")))
    _metrics["jobs"] = prom.Counter("lessonqc_jobs_finished", "Reports published, by verdict.", ["verdict"])


def observe_runs(queue: str, runs: dict[str, Any]) -> None:
    """Record each StageRun of a finished task."""
    histogram = _metrics.get("stage")
    if histogram is None:
        return
    for name, run in runs.items():
        histogram.labels(name, queue, run.status).observe(run.seconds)


def job_finished(verdict: str | None) -> None:
    counter = _metrics.get("jobs")
    if counter is not None and verdict:
        counter.labels(verdict).inc()


def queue_depths(client: redis.Redis, namespace: str) -> dict[str, dict[str, int]]:
    """Messages waiting per farm queue: ready, delayed (retry backoff) and dead-lettered."""
    with client.pipeline(transaction=False) as pipe:
        for queue in QUEUES:
            pipe.llen(f"{namespace}:{queue}")
            pipe.llen(f"{namespace}:{queue}.DQ")
            pipe.zcard(f"{namespace}:{queue}.XQ")
        counts = pipe.execute()
    return {q: dict(zip(("ready", "delayed", "dead"), counts[i * 3:i * 3 + 3])) for i, q in enumerate(QUEUES)}


def sample_queue_depth() -> int:
    """A dramatiq fork process: refresh lessonqc_queue_depth every few seconds, forever."""
    _multiprocess_dir()
    import prometheus_client as prom

    from .connection import namespace, redis_client

    gauge = prom.Gauge("lessonqc_queue_depth", "Messages waiting per queue.", ["queue", "kind"],
                       multiprocess_mode="mostrecent")
    client, ns = redis_client(), namespace()
    while True:
        for queue, kinds in queue_depths(client, ns).items():
            for kind, count in kinds.items():
                gauge.labels(queue, kind).set(count)
        time.sleep(SAMPLE_INTERVAL_S)
