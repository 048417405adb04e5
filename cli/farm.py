"""`lessonqc submit | status | report | worker`: the farm from the command line."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from workers import api, exitcodes
from workers.settings import QUEUES
from workers.supervisor import supervise

from .common import add_job_options, add_lesson_options, lesson_of, print_summary


def add_parser(sub: argparse._SubParsersAction) -> None:
    _submit_parser(sub)
    _status_parser(sub)
    _report_parser(sub)
    _worker_parser(sub)
    p = sub.add_parser("sweep", help="one pass of the sweeper: re-drive or end stale jobs, publish pending reports",
                       description="Workers sweep every farm.sweep_interval_s; this runs one pass now (cron, ops).")
    p.set_defaults(func=run_sweep)


def _submit_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("submit", help="enqueue videos on the farm (prints one job id per video)",
                       description="Enqueue videos (paths under LESSONQC_MEDIA_ROOTS) for the worker farm.")
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video path (relative paths: from this folder)")
    add_job_options(p, "a YAML path the workers can read")
    add_lesson_options(p)
    p.add_argument("--wait", action="store_true", help="wait for the reports; exit code by the worst verdict")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds --wait waits per job (default 3600)")
    p.set_defaults(func=run_submit)


def _status_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="job state (queued/running/done/error) per stage; no JOB: queue depths")
    p.add_argument("jobs", nargs="*", metavar="JOB")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_status)


def _report_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="print a finished job's report (exit code by verdict)")
    p.add_argument("job", metavar="JOB")
    p.add_argument("--json", action="store_true", help="print report.json instead of the summary")
    p.add_argument("--wait", action="store_true", help="wait until the report is published")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds --wait waits (default 3600)")
    p.set_defaults(func=run_report)


def _worker_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="run farm workers (dramatiq) for some queues",
                       description="Runs `dramatiq workers.actors` with low prefetch; models load once per process.")
    p.add_argument("--queues", nargs="+", choices=QUEUES, default=list(QUEUES), help="queues to serve (default: all)")
    p.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--threads", type=int, default=1, help="threads per process (default 1: stages use whole cores)")
    p.add_argument("--prefetch", type=int, default=1, help="messages each process takes ahead (default 1)")
    p.add_argument("--import", dest="modules", action="append", default=[], metavar="MODULE",
                   help="also import MODULE in each worker (e.g. extra stage plug-ins)")
    p.add_argument("--prometheus", action="store_true", help="export metrics (dramatiq_prom_port, default 9191)")
    p.set_defaults(func=run_worker)


def run_submit(args: argparse.Namespace) -> int:
    job_ids: list[str] = []
    details = api.Details(lesson=lesson_of(args) or {})
    for video in args.videos:
        job_ids.append(api.submit(os.path.abspath(video), args.profile, args.foreign_language, source=video,
                                  skip=args.skip_stage, category=args.category or "", details=details))
        print(f"{job_ids[-1]}\t{video}", flush=True)
    if not args.wait:
        return exitcodes.PASS
    return exitcodes.for_verdicts(_print_report(api.wait(job, args.timeout)) for job in job_ids)


def run_status(args: argparse.Namespace) -> int:
    docs = [api.status(job) for job in args.jobs] if args.jobs else [_queue_depths()]
    for doc in docs:
        print(json.dumps(doc, ensure_ascii=False, indent=2) if args.json else _status_text(doc))
    return exitcodes.PASS


def run_report(args: argparse.Namespace) -> int:
    doc = api.wait(args.job, args.timeout) if args.wait else api.report(args.job)
    if doc is None:
        print(f"lessonqc: job {args.job} has no report yet ({api.status(args.job)['state']}); try --wait",
              file=sys.stderr)
        return exitcodes.USAGE
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        _print_report(doc)
    return exitcodes.BY_VERDICT[doc["verdict"]]


def run_sweep(args: argparse.Namespace) -> int:
    import redis

    from pipelines.errors import LessonQCError

    from workers.actors import farm
    from workers.sweeper import sweep

    try:
        done = sweep(farm())
    except (LessonQCError, redis.RedisError) as exc:
        print(f"lessonqc: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    print("  ".join(f"{k} {v}" for k, v in done.items()))
    return exitcodes.PASS


def run_worker(args: argparse.Namespace) -> int:
    """Run the dramatiq CLI under a supervisor that starts it again when a worker process died."""
    return supervise(worker_argv(args), worker_env(args, os.environ))


def worker_argv(args: argparse.Namespace) -> list[str]:
    """The `dramatiq` command line for `lessonqc worker` (pure, for tests)."""
    return [sys.executable, "-m", "dramatiq", "workers.actors", *args.modules,
            "--processes", str(args.processes), "--threads", str(args.threads), "--queues", *args.queues]


def worker_env(args: argparse.Namespace, base: Any) -> dict[str, str]:
    """Environment for the workers: low prefetch so idle workers get work; metrics when asked."""
    env = dict(base)
    env["dramatiq_queue_prefetch"] = str(args.prefetch)
    env.setdefault("dramatiq_delay_queue_prefetch", "100")
    if args.prometheus:
        env["LESSONQC_PROMETHEUS"] = "1"
    return env


def _queue_depths() -> dict[str, Any]:
    from workers.connection import namespace, redis_client
    from workers.metrics import queue_depths

    return {"queues": queue_depths(redis_client(), namespace())}


def _status_text(doc: dict[str, Any]) -> str:
    if "queues" in doc:
        return "\n".join(f"{q:<8} ready {d['ready']:>5}  delayed {d['delayed']:>5}  dead {d['dead']:>5}"
                         for q, d in doc["queues"].items())
    head = f"{doc['job_id']}  {doc['state']}" + (f"  {doc['verdict']}" if doc.get("verdict") else "")
    lines = [f"{head}  (profile {doc['profile']})  {doc['source']}"]
    for key, task in doc["tasks"].items():
        seconds = f"{task['seconds']:.1f} s" if task.get("seconds") is not None else ""
        lines.append(f"  {key:<16} {task['state']:<8} {task.get('queue', ''):<7} {seconds:>8}  {task.get('error') or ''}")
    if doc.get("report"):
        lines.append(f"  report: {Path(doc['report']) / 'report.html'}")
    return "\n".join(line.rstrip() for line in lines)


def _print_report(doc: dict[str, Any]) -> str:
    """The shared terminal summary of a farm report; returns its verdict."""
    return print_summary(doc, f"job {doc['job_id']}", api.report_dir(doc["job_id"]) / "report.html")
