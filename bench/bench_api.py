"""The HTTP API: GET /jobs requests per second with 10,000 indexed jobs on PostgreSQL, and the latency
the API adds to a submit (POST /api/v1/jobs over HTTP versus workers.api.submit called in-process).

Needs PostgreSQL (--postgres, default postgresql://postgres@127.0.0.1:5432/test: a fresh database is
created there and dropped after) and Redis (LESSONQC_REDIS_URL; the run uses its own key prefix and
removes its keys). The API runs as `lessonqc serve` (one uvicorn process) on a free local port; the
client keeps connections alive and uses --clients threads. Prints figures measured in this one run.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import httpx
import psycopg
import redis

REPO = Path(__file__).resolve().parent.parent
REGIONS = ["浙江省/杭州市/西湖区", "浙江省/杭州市/滨江区", "浙江省/宁波市/鄞州区", "江苏省/南京市/玄武区", "广东省/深圳市/南山区"]
CODES = ["tech.resolution", "signal.black", "signal.silence", "text.ad", "speech.language", "intro.title_card"]
VERDICTS = ["pass", "review", "fail", "error"]


def seed(url: str, count: int) -> None:
    """`count` published jobs with lesson metadata and 0-3 findings each (bulk insert)."""
    from index import db
    from index.models import Finding, Job, Lesson

    database = db.open_database(url)
    rng = random.Random(7)
    start = datetime(2026, 9, 1, tzinfo=timezone.utc)
    jobs, lessons, findings = [], [], []
    for i in range(count):
        job_id = f"bench{i:08d}"
        verdict = rng.choice(VERDICTS)
        jobs.append({"id": job_id, "source": f"{job_id}.mp4", "profile": rng.choice(["micro-primary", "micro-secondary", "lab"]),
                     "status": "error" if verdict == "error" else "done", "verdict": verdict,
                     "region": rng.choice(REGIONS), "level": "school", "submitted_at": start + timedelta(minutes=i),
                     "finished_at": start + timedelta(minutes=i, seconds=90), "stages": {}, "callback_attempts": 0})
        lessons.append({"job_id": job_id, "teacher": f"老师{i}", "school": "实验小学", "title": f"第{i}课"})
        for seq in range(0 if verdict == "pass" else rng.randint(1, 3)):
            findings.append({"job_id": job_id, "seq": seq, "code": rng.choice(CODES), "severity": "review",
                             "message": "bench", "start_s": 1.0, "end_s": 2.0, "evidence": {}})
    with database.session() as session:
        session.execute(Job.__table__.insert(), jobs)
        session.execute(Lesson.__table__.insert(), lessons)
        session.execute(Finding.__table__.insert(), findings)
    with database.engine.connect() as conn:  # fresh statistics, as autovacuum would have them in production
        conn.exec_driver_sql("ANALYZE")
    db.close_all()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def throughput(base: str, token: str, params: dict[str, Any], seconds: float, clients: int) -> tuple[float, float]:
    """(requests per second, p50 ms) of GET /api/v1/jobs with `params`, `clients` keep-alive threads."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    def loop() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            while True:  # at least one request per client
                started = time.perf_counter()
                answer = http.get("/api/v1/jobs", params=params)
                assert answer.status_code == 200, answer.text
                latencies.append(time.perf_counter() - started)
                if started > deadline:
                    break

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - started), statistics.median(latencies) * 1000


def in_process_pages(url: str, seconds: float) -> float:
    """Pages per second of the same GET /jobs work without HTTP: token check, query, codes, answer models."""
    from index import db, repository, tokens
    from service import schemas, views

    database = db.open_database(url)
    count, deadline = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        with database.session() as session:
            tokens.verify(session, "lqc_bench-not-a-token")
        with database.session() as session:
            page, total = repository.list_jobs(session, repository.JobFilter(), 50, 0)
            codes = repository.codes_by_job(session, [j.id for j in page])
            schemas.JobPage(items=[views.summary(j, codes[j.id]) for j in page], total=total, limit=50, offset=0,
                            next_offset=50).model_dump_json()
        count += 1
    return count / (time.perf_counter() - started)


def timed(n: int, fn: Callable[[int], object]) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def wait_ready(base: str, proc: subprocess.Popen) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit(f"lessonqc serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("lessonqc serve did not answer /healthz")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8.0, help="per GET /jobs variant")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--submits", type=int, default=200)
    args = parser.parse_args()

    name = f"lqcbench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(args.postgres, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = args.postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    namespace = f"lqcbench-{uuid.uuid4().hex[:8]}"
    root = Path(tempfile.mkdtemp(prefix="lqc-bench-api-"))
    (root / "media").mkdir()
    (root / "media" / "lesson.mp4").write_bytes(b"x" * 1024)
    env = {**os.environ, "LESSONQC_DATABASE_URL": url, "LESSONQC_MEDIA_ROOTS": str(root / "media"),
           "LESSONQC_REPORT_DIR": str(root / "reports"), "LESSONQC_NAMESPACE": namespace,
           "LESSONQC_STATE_PREFIX": f"{namespace}:state", "PYTHONPATH": str(REPO)}
    os.environ.update({k: v for k, v in env.items() if k.startswith("LESSONQC_")})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = None
    try:
        started = time.perf_counter()
        seed(url, args.jobs)
        print(f"seeded {args.jobs} jobs on PostgreSQL in {time.perf_counter() - started:.1f} s")
        token = subprocess.run([sys.executable, "-m", "cli", "tokens", "create", "bench"], env=env, check=True,
                               capture_output=True, text=True).stdout.strip()
        server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(base, server)
        variants = {"GET /jobs (page of 50, newest first)": {},
                    "GET /jobs?verdict=fail&region=浙江省/杭州市": {"verdict": "fail", "region": "浙江省/杭州市"},
                    "GET /jobs?code=text.ad": {"code": "text.ad"},
                    "GET /jobs?offset=9000": {"offset": 9000}}
        throughput(base, token, {}, 1.0, args.clients)  # warm-up
        for label, params in variants.items():
            rps, p50 = throughput(base, token, params, args.seconds, args.clients)
            print(f"{label:<48} {rps:7.1f} req/s   p50 {p50:6.1f} ms   ({args.clients} clients)")
        one_rps, one_p50 = throughput(base, token, {}, args.seconds, 1)
        direct = in_process_pages(url, args.seconds)
        print(f"{'GET /jobs, 1 client':<48} {one_rps:7.1f} req/s   p50 {one_p50:6.1f} ms")
        print(f"{'same page in-process (query + models, no HTTP)':<48} {direct:7.1f} pages/s   "
              f"HTTP/in-process time ratio {direct / one_rps:.2f}")
        submit_latency(base, token, args.submits)
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        client = redis.Redis.from_url(os.environ.get("LESSONQC_REDIS_URL", "redis://127.0.0.1:6379/0"))
        for key in client.scan_iter(f"{namespace}:*", count=500):
            client.delete(key)
        from index import db

        db.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


def submit_latency(base: str, token: str, n: int) -> None:
    """p50/p99 of POST /api/v1/jobs (JSON reference) vs workers.api.submit in-process (index row + enqueue)."""
    from workers import api

    direct = timed(n, lambda i: api.submit("lesson.mp4", source="lesson.mp4"))
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        def post(_: int) -> None:
            assert http.post("/api/v1/jobs", json={"media": "lesson.mp4"}).status_code == 201
        over_http = timed(n, post)
    for label, values in (("workers.api.submit (in-process)", direct), ("POST /api/v1/jobs (HTTP)", over_http)):
        print(f"{label:<48} p50 {percentile(values, 0.5):6.1f} ms   p99 {percentile(values, 0.99):6.1f} ms   (n={n})")
    print(f"{'latency the API adds':<48} p50 {percentile(over_http, 0.5) - percentile(direct, 0.5):+6.1f} ms   "
          f"p99 {percentile(over_http, 0.99) - percentile(direct, 0.99):+6.1f} ms   "
          f"ratio p50 {percentile(over_http, 0.5) / percentile(direct, 0.5):.2f}")


if __name__ == "__main__":
    sys.exit(main())
