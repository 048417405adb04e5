"""`make hostile`: hostile and odd inputs through `lessonqc check` and through the farm (Redis).

Each kind (bench/hostile/kinds.py) is made under a media root; beside the root lies a
folder of files nothing may read (their access times are set to 0 and checked after).
Every input must end within its budget with a report (error or judged) or a refusal,
with no traceback, no job left queued or running, and nothing outside the root read.
Prints the table (kind -> outcome, seconds) and writes it to OUT/table.md; exit 1 on a violation.

    python -m bench.hostile [--kinds a,b] [--no-farm] [--out .cache/bench/hostile]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.hostile.kinds import KINDS
from bench.timing import CACHE

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("LESSONQC_HOSTILE_REDIS", "redis://127.0.0.1:6379/12")


@dataclass
class Outcome:
    """One input through one path: what came back, how long it took, what went wrong."""

    result: str = "-"
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def make_inputs(root: Path, outside: Path, names: list[str]) -> dict[str, Path]:
    made = {}
    for name in names:
        made[name] = KINDS[name](root, outside)
    for path in outside.iterdir():  # nothing may read these from now on
        os.utime(path, ns=(0, path.stat().st_mtime_ns), follow_symlinks=False)
    return made


def summary(doc: dict) -> str:
    codes = sorted({f["code"] for f in doc["findings"] if f["severity"] != "info"})
    if doc["verdict"] == "error":
        message = next(f["message"] for f in doc["findings"] if f["code"] == "input.unreadable")
        return f"error: {message.split(' / ')[-1][:70]}"
    shown = ", ".join(c for c in codes if not c.startswith("tech.") or c in ("tech.audio_streams", "tech.vfr"))
    return f"{doc['verdict']}" + (f" ({shown})" if shown else "")


def run_check(path: Path, out: Path, root: Path, budget_s: float) -> Outcome:
    env = {**os.environ, "LESSONQC_MEDIA_ROOTS": str(root), "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "cli", "check", str(path), "--out", str(out)], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=budget_s)
    except subprocess.TimeoutExpired:
        return Outcome("HUNG", budget_s, [f"check ran past its {budget_s:.0f} s budget"])
    outcome = Outcome(seconds=time.monotonic() - started)
    if "Traceback" in proc.stdout + proc.stderr:
        outcome.problems.append("traceback in the output")
    report = out / "report.json"
    if report.is_file():
        outcome.result = summary(json.loads(report.read_text(encoding="utf-8")))
    else:
        outcome.result = f"refused (exit {proc.returncode}): {proc.stderr.strip()[-70:]}"
        if proc.returncode != 4:
            outcome.problems.append(f"no report and exit {proc.returncode}")
    return outcome


def run_farm(inputs: dict[str, Path], base: Path, root: Path, budget_s: float) -> dict[str, Outcome]:
    """Every input submitted to a farm of two worker processes on Redis; wait for each."""
    namespace = f"hostile-{uuid.uuid4().hex[:8]}"
    env = {"LESSONQC_REDIS_URL": REDIS_URL, "LESSONQC_NAMESPACE": namespace, "LESSONQC_STATE_PREFIX": f"{namespace}:state",
           "LESSONQC_MEDIA_ROOTS": str(root), "LESSONQC_REPORT_DIR": str(base / "reports")}
    os.environ.update(env)
    from workers import api
    from workers import broker as brokers

    brokers.install(brokers.make_redis())
    log = (base / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "cli", "worker", "--processes", "2"], cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        return _drive(api, inputs, budget_s)
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(30)
        _drop_keys(namespace)


def _drive(api, inputs: dict[str, Path], budget_s: float) -> dict[str, Outcome]:
    outcomes, jobs, submitted = {}, {}, {}
    for name, path in inputs.items():
        try:
            jobs[name] = api.submit(path)
            submitted[name] = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - a refusal at submit is an outcome
            outcomes[name] = Outcome(f"refused at submit: {str(exc).split(' / ')[-1][:60]}")
    deadline = time.monotonic() + budget_s * max(1, len(jobs)) / 2
    while jobs and time.monotonic() < deadline:
        for name in [n for n, job in jobs.items() if api.status(job)["state"] in ("done", "error")]:
            outcomes[name] = _finished(api, jobs.pop(name), budget_s)
        time.sleep(0.5)
    for name, job in jobs.items():
        outcomes[name] = Outcome("LEFT " + api.status(job)["state"], time.monotonic() - submitted[name],
                                 ["job left unfinished"])
    return outcomes


def _finished(api, job: str, budget_s: float) -> Outcome:
    from datetime import datetime, timezone

    status = api.status(job)
    doc = api.report(job)
    started = status.get("started_at") or status.get("submitted_at")
    ended = datetime.fromisoformat(status["finished_at"]) if status.get("finished_at") else datetime.now(timezone.utc)
    spent = (ended - datetime.fromisoformat(started)).total_seconds() if started else 0.0
    outcome = Outcome(summary(doc) if doc else f"{status['state']} without a report", spent)
    if doc is None:
        outcome.problems.append("no report")
    if spent > budget_s:
        outcome.problems.append(f"{spent:.0f} s past its {budget_s:.0f} s budget")
    if doc and "Traceback" in json.dumps(doc):
        outcome.problems.append("traceback in the report")
    return outcome


def _drop_keys(namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{namespace}:*", count=500):
        client.delete(key)


def untouched(outside: Path) -> list[str]:
    """Files beyond the media root whose access time moved (something read them)."""
    return [p.name for p in outside.iterdir() if p.stat(follow_symlinks=False).st_atime_ns != 0]


def table(names: list[str], check: dict[str, Outcome], farm: dict[str, Outcome]) -> str:
    rows = ["| input kind | `lessonqc check` | s | farm (Redis) | s |", "|---|---|---|---|---|"]
    for name in names:
        c, f = check.get(name, Outcome()), farm.get(name, Outcome())
        rows.append(f"| {name} | {c.result} | {c.seconds:.1f} | {f.result} | {f.seconds:.1f} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds (default: all)")
    parser.add_argument("--out", type=Path, default=CACHE / "hostile")
    parser.add_argument("--no-farm", action="store_true", help="only `lessonqc check`")
    parser.add_argument("--check-budget", type=float, default=120.0, help="seconds each check may take")
    parser.add_argument("--farm-budget", type=float, default=180.0, help="seconds each farm job may take once started")
    args = parser.parse_args()
    names = [n for n in args.kinds.split(",") if n]
    base = args.out.resolve()
    shutil.rmtree(base, ignore_errors=True)
    root, outside = base / "root", base / "outside"
    root.mkdir(parents=True)
    outside.mkdir()
    inputs = make_inputs(root, outside, names)
    print(f"{len(inputs)} kinds of input made under {root}", flush=True)
    check = {}
    for name, path in inputs.items():
        check[name] = run_check(path, base / "check" / name, root, args.check_budget)
        print(f"check {name:<28} {check[name].seconds:6.1f} s  {check[name].result}", flush=True)
    farm = {} if args.no_farm else run_farm(inputs, base, root, args.farm_budget)
    text = table(names, check, farm)
    print("\n" + text)
    (base / "table.md").write_text(text + "\n", encoding="utf-8")
    problems = [f"{name} ({way}): {p}" for way, results in (("check", check), ("farm", farm))
                for name, o in results.items() for p in o.problems]
    problems += [f"read outside the media root: {name}" for name in untouched(outside)]
    print("\n" + ("\n".join(problems) if problems else f"all {len(names)} kinds ended with a report or a refusal; "
                                                          "nothing outside the media root was read"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
