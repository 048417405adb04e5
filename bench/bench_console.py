"""How fast the reviewer console lists 10,000 lessons, and how fast a reviewer clears a queue.

--reviewer: a scripted reviewer in headless Chromium clears a 20-lesson queue (bench/console_reviewer.py:
every finding confirmed or dismissed, one decision per lesson), with this tree's console and, with
--before TREE, another tree's (e.g. a checkout of main before a change); prints requests per finding
action, full page loads and seconds per lesson, page weight, and the ratios.

Queue listing (the default):

Fills an index (a SQLite file, and a fresh PostgreSQL database, created and dropped on the server
LESSONQC_BENCH_POSTGRES names, e.g. postgresql://postgres@127.0.0.1:5432/test) with 10,000 finished jobs: lesson metadata, 4 findings each, regions over 10 cities ×
10 counties of one province, spread over the review levels, a third of the county lessons already
decided. Then GET /console/ through the real app (session lookup, count, page query, filter
choices, rendering) for reviewers of three scopes. Prints the median and p95 per page view.

    python -m bench.bench_console [--jobs 10000] [--repeat 30]
    python -m bench.bench_console --reviewer [--lessons 20] [--before /path/to/older/tree]
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from console import accounts, settings as console_settings
from console.web import Console, install
from index import db as indexdb
from index.models import Finding, Job, Lesson
from index.review import Decision

CODES = ["tech.resolution", "tech.duration", "signal.black", "signal.silence", "text.ad", "text.qr_code",
         "speech.ad", "intro.title_card", "text.traditional", "signal.loudness"]
SEVERITY = {"tech.resolution": "fail", "tech.duration": "fail", "text.ad": "fail", "text.qr_code": "fail",
            "speech.ad": "fail"}
LEVEL_SHARE = [("school", 0.10), ("county", 0.70), ("city", 0.15), ("province", 0.05)]
SUBJECTS = ["数学", "语文", "英语", "科学", "物理", "化学", "生物", "历史", "地理", "音乐"]
PASSWORD = "bench-password-1"


def region(i: int) -> str:
    return f"浙江省/市{i % 10:02d}/区{(i // 10) % 10:02d}/学校{i % 37:02d}"


def level(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for name, share in LEVEL_SHARE:
        acc += share
        if x < acc:
            return name
    return "county"


def fill(database: indexdb.Database, jobs: int) -> None:
    """Bulk-insert `jobs` finished jobs with lessons, findings and some county decisions."""
    rng = random.Random(7)
    start = datetime(2026, 9, 1, tzinfo=timezone.utc)
    job_rows, lesson_rows, finding_rows, decision_rows = [], [], [], []
    for i in range(jobs):
        job_id = f"bench-{i:05d}"
        codes = rng.sample(CODES, 4)
        verdict = "fail" if any(SEVERITY.get(c) == "fail" for c in codes) else "review"
        lvl = level(rng)
        job_rows.append(dict(id=job_id, source=f"{job_id}.mp4", profile="micro-primary", status="done", verdict=verdict,
                             region=region(i), level=lvl, submitted_at=start + timedelta(minutes=13 * i),
                             finished_at=start + timedelta(minutes=13 * i + 5), callback_attempts=0, stages={}))
        lesson_rows.append(dict(job_id=job_id, teacher=f"教师{i % 997}", school=region(i).rsplit("/", 1)[-1],
                                subject=SUBJECTS[i % len(SUBJECTS)], grade=f"{1 + i % 9}年级", title=f"第{i}课",
                                category="学科课程"))
        finding_rows += [dict(job_id=job_id, seq=n, code=c, severity=SEVERITY.get(c, "review"), message=c,
                              start_s=float(10 * n), end_s=float(10 * n + 5), evidence={}) for n, c in enumerate(codes)]
        if lvl == "county" and i % 3 == 0:
            decision_rows.append(dict(job_id=job_id, level="county", action="return", reason="bench", reviewer="r",
                                      reviewer_region="", created_at=start))
    with database.session() as s:
        for model, rows in ((Job, job_rows), (Lesson, lesson_rows), (Finding, finding_rows), (Decision, decision_rows)):
            for k in range(0, len(rows), 5000):
                s.execute(insert(model), rows[k:k + 5000])


def login(client: TestClient, name: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text).group(1)
    answer = client.post("/console/login", data={"username": name, "password": PASSWORD, "csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.status_code


def time_views(client: TestClient, path: str, repeat: int) -> tuple[float, float, float, int]:
    """(median wall ms, p95 wall ms, median CPU ms of this process, lessons in scope) of GET path.

    The app runs in this process (TestClient), so CPU time counts the server's work plus the
    client's: on a machine shared with other jobs it is steadier than the wall time."""
    total = int(re.search(r"共 (\d+) 节课", client.get(path).text).group(1))
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        assert client.get(path).status_code == 200
        wall.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.process_time() - started_cpu))
    wall.sort()
    return statistics.median(wall), wall[int(0.95 * (len(wall) - 1))], statistics.median(cpu), total


REVIEWERS = [("county_reviewer", "county", "浙江省/市03/区04"), ("city_reviewer", "city", "浙江省/市03"),
             ("province_wide_county_reviewer", "county", "浙江省")]
VIEWS = [("default (newest first)", "/console/"), ("filter code=text.ad", "/console/?code=text.ad"),
         ("undecided only", "/console/?decided=no"), ("sort by verdict", "/console/?sort=verdict"),
         ("page 20", "/console/?page=20")]


def run(url: str, jobs: int, repeat: int) -> None:
    database = indexdb.open_database(url)
    started = time.perf_counter()
    fill(database, jobs)
    print(f"  filled {jobs} jobs ({4 * jobs} findings) in {time.perf_counter() - started:.1f} s")
    if database.dialect == "postgresql":  # plans come from statistics: what autovacuum does after a bulk load
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    settings = replace(console_settings.load(), login_rate_per_client=1000)
    with database.session() as s:
        for name, lvl, scope in REVIEWERS:
            accounts.add_user(s, accounts.NewUser(name, lvl, scope, PASSWORD), settings)
    app = FastAPI()
    install(app, Console(lambda: database, settings))
    for name, _, scope in REVIEWERS:
        client = TestClient(app)
        login(client, name)
        for label, path in VIEWS:
            median, p95, cpu, total = time_views(client, path, repeat)
            print(f"  {name:<30} {scope:<16} {total:>5} lessons  {label:<23} wall median {median:6.1f} ms"
                  f"  p95 {p95:6.1f} ms  CPU {cpu:6.1f} ms/page")


REVIEWER = Path(__file__).resolve().parent / "console_reviewer.py"
SHOWN = [("seconds_per_lesson", "seconds per lesson", "{:.2f}"), ("full_page_loads_per_lesson", "full page loads per lesson", "{:.1f}"),
         ("requests_per_finding_action", "requests per finding action", "{:.2f}"),
         ("most_requests_per_finding_action", "most requests for one finding action", "{}"),
         ("requests_per_lesson", "requests per lesson (not video)", "{:.1f}"),
         ("video_requests_per_lesson", "video range requests per lesson", "{:.1f}"),
         ("lesson_page_bytes", "lesson page HTML bytes", "{:,}"), ("static_bytes", "console.css + console.js bytes", "{:,}"),
         ("finding_answer_bytes", "bytes of one finding action's answer", "{:,.0f}"),
         ("bytes_per_lesson", "bytes per lesson (not video)", "{:,.0f}")]


def reviewer(lessons: int, before: Path | None) -> None:
    """The scripted reviewer on this tree and optionally on `before`; a table and the ratios."""
    import json
    import subprocess
    import sys

    from pipelines.check import check
    from pipelines import profile as profiles
    from testmedia import cached
    from testmedia.lesson import LessonSpec, make_lesson

    cache = Path(__file__).resolve().parent.parent / ".cache" / "test-media"
    cache.mkdir(parents=True, exist_ok=True)
    video = cached(cache, "console-lesson.mp4", make_lesson, LessonSpec(seconds=20, slide_s=5, title_s=4, width=1280,
                                                                        height=720, ad_slide_at=10, promo_speech_at=14))
    here = Path(__file__).resolve().parent.parent
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-reviewer-report-") as tmp:
        check(video, profiles.load("micro-primary"), Path(tmp), skip=frozenset({"speech"}))
        for name, tree in (("before", before), ("after", here)):
            if tree is None:
                continue
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run([sys.executable, str(REVIEWER), tmp, str(video), "--lessons", str(lessons)],
                                 env=env, cwd=tree, capture_output=True, text=True, check=True)
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    first = next(iter(results.values()))
    print(f"{lessons} lessons, {first['findings_per_lesson']} findings each, headless Chromium 1366x768")
    print(f"  {'':<40}" + "".join(f"{name:>12}" for name in results))
    for key, label, fmt in SHOWN:
        print(f"  {label:<40}" + "".join(f"{fmt.format(r[key]):>12}" for r in results.values()))
    if len(results) == 2:
        b, a = results["before"], results["after"]
        print(f"  seconds per lesson: {b['seconds_per_lesson'] / a['seconds_per_lesson']:.1f}x fewer; requests per "
              f"finding action: {b['requests_per_finding_action']:.2f} -> {a['requests_per_finding_action']:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reviewer", action="store_true", help="the scripted reviewer instead of the queue listing")
    parser.add_argument("--lessons", type=int, default=20)
    parser.add_argument("--before", type=Path, help="with --reviewer: also run this tree's console (before a change)")
    args = parser.parse_args()
    if args.reviewer:
        reviewer(args.lessons, args.before)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        print(f"SQLite ({args.jobs} jobs)")
        run(f"sqlite:///{Path(tmp) / 'index.sqlite3'}", args.jobs, args.repeat)
    pg = os.environ.get("LESSONQC_BENCH_POSTGRES")
    if pg:
        print(f"PostgreSQL ({args.jobs} jobs)")
        with fresh_postgres(pg) as url:
            run(url, args.jobs, args.repeat)
    return 0


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """A new database on the server of `server_url` for this run, dropped afterwards."""
    import psycopg

    base = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"lqcbench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rpartition("/")[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    finally:
        indexdb.close_all()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
