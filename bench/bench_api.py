"""The HTTP API's job list against a minimal reference endpoint, on realistic rows, and the latency the API
adds to a submit.

For each size (default 10,000 and 100,000 jobs) a fresh PostgreSQL database is seeded with rows as real
jobs hold them (the profile snapshot validated at submit, ~12.5 KB of JSON; the farm's spec; the
report's stages; lesson metadata; 0-3 findings with evidence), its statistics committed (VACUUM
ANALYZE after the seed commits). Then, in the same run and with the same keep-alive clients, it measures
GET /api/v1/jobs of `lessonqc serve`'s app (uvicorn, one process) and a minimal FastAPI endpoint doing
one keyset query with the lesson joined and the codes aggregated in SQL (no auth, no models): the first
page, a filtered page and a deep cursor page (90% down the list). Prints req/s, p50, p99 and the ratio
API/reference. Needs PostgreSQL (--postgres; the databases are dropped after) and Redis (the submit
figures; its own key prefix, removed after).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import psycopg

REPO = Path(__file__).resolve().parent.parent
REGIONS = ["浙江省/杭州市/西湖区", "浙江省/杭州市/滨江区", "浙江省/宁波市/鄞州区", "江苏省/南京市/玄武区", "广东省/深圳市/南山区"]
CODES = ["tech.resolution", "signal.black", "signal.silence", "text.ad", "speech.language", "intro.title_card"]
VERDICTS = ["pass", "review", "fail", "error"]
PROFILES = ["micro-primary", "micro-secondary", "lab"]
STAGES = ["probe", "technical", "signal", "intro", "onscreen", "speech", "lab", "report"]
PAGE = 50
START = datetime(2026, 9, 1, tzinfo=timezone.utc)
FILTER = {"verdict": "fail", "region": "浙江省/杭州市"}


# ---------------------------------------------------------------- seeding

def snapshots() -> dict[str, str]:
    """Each profile's snapshot as submit stores it ({"name", "data"} validated), as JSON text."""
    from pipelines import profile as profiles

    out = {}
    for name in PROFILES:
        loaded = profiles.load(name, [])
        out[name] = json.dumps({"name": loaded.name, "data": loaded.data}, ensure_ascii=False)
    return out


def job_rows(count: int) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(job, lesson, findings) rows, job i submitted i minutes after START."""
    from workers.jobs import JobSpec

    rng = random.Random(7)
    frozen = snapshots()
    for i in range(count):
        job_id, profile, verdict = f"bench{i:08d}", rng.choice(PROFILES), rng.choice(VERDICTS)
        spec = JobSpec(job_id, f"/media/uploads/{job_id}/lesson.mp4", profile, (), f"{job_id}.mp4").to_dict()
        stages = {s: {"status": "ok", "seconds": round(rng.uniform(0.1, 90), 2), "error": None} for s in STAGES}
        at = START + timedelta(minutes=i)
        job = (job_id, f"{job_id}.mp4", spec["media"], profile, "error" if verdict == "error" else "done", verdict,
               rng.choice(REGIONS), "school", at, at + timedelta(seconds=90), f"/reports/{job_id}",
               json.dumps(stages), json.dumps(spec), frozen[profile], 0, 0, rng.randint(10**7, 10**9))
        lesson = (job_id, f"老师{i}", "实验小学", "数学", "三年级", f"第{i}课 分数的意义", "学科课程")
        findings = [(job_id, seq, rng.choice(CODES), "review", "画面黑场 2.0–5.0 s", 1.0 + seq, 2.0 + seq,
                     json.dumps({"mean_luma": 3.2, "frames": 75}))
                    for seq in range(0 if verdict == "pass" else rng.randint(1, 3))]
        yield job, lesson, findings


JOB_COLUMNS = ("id, source, media_path, profile, status, verdict, region, level, submitted_at, finished_at, "
               "report_dir, stages, spec, profile_snapshot, callback_attempts, recoveries, media_size")


def seed(dsn: str, url: str, count: int) -> float:
    """Migrate, COPY `count` jobs in, commit, then VACUUM ANALYZE (committed statistics); mean JSON bytes per job."""
    from index import db

    db.open_database(url)
    db.close_all()
    json_bytes, lessons, findings = 0, [], []
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY jobs ({JOB_COLUMNS}) FROM STDIN") as copy:
            for job, lesson, found in job_rows(count):
                copy.write_row(job)
                json_bytes += sum(len(text.encode()) for text in job[11:14])
                lessons.append(lesson)
                findings.extend(found)
        with cur.copy("COPY lessons (job_id, teacher, school, subject, grade, title, category) FROM STDIN") as copy:
            for row in lessons:
                copy.write_row(row)
        with cur.copy("COPY findings (job_id, seq, code, severity, message, start_s, end_s, evidence) FROM STDIN") as copy:
            for row in findings:
                copy.write_row(row)
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:  # statistics as autovacuum would leave them, committed
        conn.execute("VACUUM ANALYZE")
    return json_bytes / max(count, 1)


# ---------------------------------------------------------------- the reference endpoint

REFERENCE_SQL = """
SELECT j.id, j.status, j.verdict, j.profile, j.source, j.region, j.level, j.submitted_at, j.finished_at,
       l.teacher, l.school, l.subject, l.grade, l.title, l.category,
       (SELECT string_agg(f.code, ' ' ORDER BY f.seq) FROM findings f WHERE f.job_id = j.id) AS codes
FROM jobs j LEFT JOIN lessons l ON l.job_id = j.id
WHERE {where}
ORDER BY j.submitted_at DESC, j.id DESC LIMIT :limit
"""


def reference_app() -> Any:
    """A minimal FastAPI endpoint: one keyset query, the lesson joined, codes aggregated in SQL; no auth, no models."""
    from fastapi import FastAPI
    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["LESSONQC_DATABASE_URL"], pool_size=10)
    app = FastAPI()

    @app.get("/jobs")
    def jobs(verdict: str | None = None, region: str | None = None, after_t: datetime | None = None,
             after_id: str | None = None) -> dict[str, Any]:
        where, params = ["TRUE"], {"limit": PAGE + 1}
        if verdict:
            where.append("j.verdict = :verdict")
            params["verdict"] = verdict
        if region:
            where.append("(j.region = :region OR j.region LIKE :prefix)")
            params.update(region=region, prefix=region + "/%")
        if after_t is not None:
            where.append("(j.submitted_at, j.id) < (:after_t, :after_id)")
            params.update(after_t=after_t, after_id=after_id)
        with engine.connect() as conn:
            rows = conn.execute(text(REFERENCE_SQL.format(where=" AND ".join(where))), params).mappings().all()
        items = [{**row, "codes": list(dict.fromkeys((row["codes"] or "").split()))} for row in rows[:PAGE]]
        return {"items": items, "more": len(rows) > PAGE}

    return app


# ---------------------------------------------------------------- measuring

@dataclass(frozen=True)
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def load(base: str, path: str, params: dict[str, Any], headers: dict[str, str], seconds: float,
         clients: int) -> Figures:
    """`clients` keep-alive threads GETting base+path for `seconds`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    def loop() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            while True:
                started = time.perf_counter()
                answer = http.get(path, params=params)
                assert answer.status_code == 200, answer.text[:300]
                latencies.append(time.perf_counter() - started)
                if started > deadline:
                    break

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return Figures(len(latencies) / elapsed, statistics.median(latencies) * 1000, percentile(latencies, 0.99) * 1000)


def variants(count: int) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """label: (API params, reference params): first page, filtered page, deep cursor page (90% down)."""
    from index.repository import Cursor

    deep = count - 1 - int(count * 0.9)
    at = START + timedelta(minutes=deep)
    return {"first page": ({"limit": PAGE}, {}),
            "verdict=fail&region=浙江省/杭州市": ({"limit": PAGE, **FILTER}, FILTER),
            "deep cursor page (90%)": ({"limit": PAGE, "cursor": Cursor(at, f"bench{deep:08d}").encode()},
                                       {"after_t": at.isoformat(), "after_id": f"bench{deep:08d}"})}


def serve(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", *args, "--port", str(port), "--log-level", "warning"],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"uvicorn {args[0]} exited with {proc.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"uvicorn {args[0]} did not answer")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_size(admin: psycopg.Connection, base_dsn: str, count: int, args: argparse.Namespace,
             env: dict[str, str]) -> None:
    """Seed a fresh database with `count` jobs, measure API and reference, print the table; drop it."""
    name = f"lqcbench_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{base_dsn.rsplit('/', 1)[0]}/{name}"
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    env = {**env, "LESSONQC_DATABASE_URL": url}
    os.environ["LESSONQC_DATABASE_URL"] = url
    servers: list[subprocess.Popen] = []
    try:
        started = time.perf_counter()
        per_job = seed(dsn, url, count)
        print(f"\n{count:,} jobs seeded in {time.perf_counter() - started:.0f} s "
              f"(JSON columns {per_job / 1024:.1f} KB per job), VACUUM ANALYZE committed")
        token = make_token(url)
        api_port, ref_port = free_port(), free_port()
        servers.append(serve(["service.app:create_app", "--factory"], env, api_port))
        servers.append(serve(["bench.bench_api:reference_app", "--factory"], env, ref_port))
        auth = {"Authorization": f"Bearer {token}"}
        print(f"{'GET /jobs, ' + str(args.clients) + ' clients':<34} {'API req/s':>9} {'p50':>6} {'p99':>6}   "
              f"{'ref req/s':>9} {'p50':>6} {'p99':>6}   {'ref/API':>7}")
        for label, (api_params, ref_params) in variants(count).items():
            load(f"http://127.0.0.1:{api_port}", "/api/v1/jobs", api_params, auth, 1.0, args.clients)  # warm-up
            load(f"http://127.0.0.1:{ref_port}", "/jobs", ref_params, {}, 1.0, args.clients)
            api = load(f"http://127.0.0.1:{api_port}", "/api/v1/jobs", api_params, auth, args.seconds, args.clients)
            ref = load(f"http://127.0.0.1:{ref_port}", "/jobs", ref_params, {}, args.seconds, args.clients)
            print(f"{label:<34} {api.rps:9.0f} {api.p50_ms:6.1f} {api.p99_ms:6.1f}   "
                  f"{ref.rps:9.0f} {ref.p50_ms:6.1f} {ref.p99_ms:6.1f}   {ref.rps / api.rps:6.2f}x")
        if args.submits:
            submit_latency(f"http://127.0.0.1:{api_port}", token, args.submits)
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(10)
        from index import db

        db.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_token(url: str) -> str:
    from index import db, tokens

    with db.open_database(url).session() as session:
        return tokens.create(session, "bench")


def timed(n: int, fn: Callable[[int], object]) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def submit_latency(base: str, token: str, n: int) -> None:
    """p50/p99 of POST /api/v1/jobs (JSON reference) vs workers.api.submit in-process (index row + enqueue)."""
    from workers import api

    direct = timed(n, lambda i: api.submit("lesson.mp4", source="lesson.mp4"))
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        def post(_: int) -> None:
            answer = http.post("/api/v1/jobs", json={"media": "lesson.mp4"})
            assert answer.status_code == 201, answer.text
        over_http = timed(n, post)
    for label, values in (("workers.api.submit (in-process)", direct), ("POST /api/v1/jobs (HTTP)", over_http)):
        print(f"{label:<34} p50 {percentile(values, 0.5):6.1f} ms   p99 {percentile(values, 0.99):6.1f} ms   (n={n})")
    print(f"{'latency the API adds':<34} p50 {percentile(over_http, 0.5) - percentile(direct, 0.5):+6.1f} ms   "
          f"p99 {percentile(over_http, 0.99) - percentile(direct, 0.99):+6.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated job counts")
    parser.add_argument("--seconds", type=float, default=8.0, help="per variant and endpoint")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--submits", type=int, default=200, help="0: skip the submit figures")
    args = parser.parse_args()

    namespace = f"lqcbench-{uuid.uuid4().hex[:8]}"
    root = Path(tempfile.mkdtemp(prefix="lqc-bench-api-"))
    (root / "media").mkdir()
    (root / "media" / "lesson.mp4").write_bytes(b"x" * 1024)
    env = {**os.environ, "LESSONQC_MEDIA_ROOTS": str(root / "media"), "LESSONQC_REPORT_DIR": str(root / "reports"),
           "LESSONQC_NAMESPACE": namespace, "LESSONQC_STATE_PREFIX": f"{namespace}:state", "PYTHONPATH": str(REPO)}
    os.environ.update({k: v for k, v in env.items() if k.startswith("LESSONQC_")})
    admin = psycopg.connect(args.postgres, autocommit=True)
    try:
        for count in (int(s) for s in args.sizes.split(",")):
            run_size(admin, args.postgres, count, args, env)
    finally:
        import redis

        client = redis.Redis.from_url(os.environ.get("LESSONQC_REDIS_URL", "redis://127.0.0.1:6379/0"))
        for key in client.scan_iter(f"{namespace}:*", count=500):
            client.delete(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
