"""The 15-minute benchmark lesson through the farm (1, then 2 worker processes) versus `lessonqc check`.

Needs Redis (LESSONQC_REDIS_URL, default redis://127.0.0.1:6379/0; the run uses its own
key prefix and removes its keys). Workers are started and ready before the clock
starts (a farm's workers are long-running); the time is submit -> report published.
Prints wall times, farm/embedded ratios, and whether the findings agree (codes, ±1 s).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import redis

from bench.timing import seconds
from pipelines import profile as profiles
from pipelines.check import check
from pipelines.report.document import to_dict

REPO = Path(__file__).resolve().parent.parent


def lesson(path: Path | None) -> Path:
    if path is not None:
        return path
    from bench.bench_check import lesson15

    return lesson15()


def farm_env(video: Path, reports: Path, namespace: str, segment_s: float) -> dict[str, str]:
    return {"LESSONQC_NAMESPACE": namespace, "LESSONQC_STATE_PREFIX": f"{namespace}:state",
            "LESSONQC_MEDIA_ROOTS": str(video.resolve().parent), "LESSONQC_REPORT_DIR": str(reports),
            "LESSONQC_SEGMENT_S": str(segment_s)}


def start_workers(env: dict[str, str], processes: int, threads: int, log: Path) -> subprocess.Popen:
    """`lessonqc worker` on every queue; returns once each process said it is ready."""
    cmd = [sys.executable, "-m", "cli", "worker", "--processes", str(processes), "--threads", str(threads)]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **env}, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while log.read_text(errors="replace").count("Worker process is ready") < processes:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"workers did not start; see {log}")
        time.sleep(0.2)
    return proc


def stop_workers(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def farm_run(video: Path, env: dict[str, str], processes: int, threads: int, work: Path) -> tuple[float, dict[str, Any]]:
    """Wall seconds from submit to published report, with `processes` ready workers."""
    from workers import api
    from workers import broker as brokers

    os.environ.update(env)
    brokers.install(brokers.make_redis())
    proc = start_workers(env, processes, threads, work / f"workers-{processes}.log")
    try:
        started = time.perf_counter()
        doc = api.wait(api.submit(video), timeout_s=7200, poll_s=0.2)
        return time.perf_counter() - started, doc
    finally:
        stop_workers(proc)


def same_findings(a: dict[str, Any], b: dict[str, Any], tolerance_s: float = 1.0) -> bool:
    """Same codes (with counts) and timestamps within `tolerance_s`."""
    def key(doc: dict[str, Any]) -> list[tuple[str, float, float]]:
        def t(v: float | None) -> float:
            return -1.0 if v is None else v
        return sorted((f["code"], t(f["start_s"]), t(f["end_s"])) for f in doc["findings"])
    ka, kb = key(a), key(b)
    return [c for c, _, _ in ka] == [c for c, _, _ in kb] and all(
        abs(s1 - s2) <= tolerance_s and abs(e1 - e2) <= tolerance_s for (_, s1, e1), (_, s2, e2) in zip(ka, kb))


def drop_keys(namespace: str) -> None:
    client = redis.Redis.from_url(os.environ.get("LESSONQC_REDIS_URL") or "redis://127.0.0.1:6379/0")
    for key in client.scan_iter(f"{namespace}:*", count=500):
        client.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--segment-s", type=float, default=300.0, help="farm segment length (default 300)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker process (default 1)")
    args = parser.parse_args()
    video = lesson(args.video)
    namespace = f"lqcbench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="lessonqc-bench-farm-") as tmp:
        work = Path(tmp)
        embedded_doc: dict[str, Any] = {}
        embedded = seconds(lambda: embedded_doc.update(to_dict(check(video, profiles.load("micro-primary"), work / "e"))))
        rows = []
        try:
            for processes in (1, 2):
                env = farm_env(video, work / f"reports-{processes}", namespace + f"-{processes}", args.segment_s)
                wall, doc = farm_run(video, env, processes, args.threads, work)
                rows.append((processes, wall, same_findings(doc, embedded_doc)))
        finally:
            for processes in (1, 2):
                drop_keys(namespace + f"-{processes}")
    print(f"file: {video.name}  {embedded_doc['media']['duration_s']:.0f} s  segments of {args.segment_s:g} s")
    print(f"lessonqc check (embedded, one decode)     {embedded:8.1f} s   1.00")
    for processes, wall, same in rows:
        print(f"farm, {processes} worker process{'es' if processes > 1 else '  '} x {args.threads} thread   "
              f"{wall:8.1f} s   {wall / embedded:.2f}   findings {'same' if same else 'DIFFER'} as embedded")


if __name__ == "__main__":
    main()
