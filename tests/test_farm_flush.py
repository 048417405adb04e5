"""Redis flushed mid-job (its own redis-server, no persistence): the sweeper re-creates the job from the index.

The shared Redis is never flushed: this test starts redis-server on a free port with
`--appendonly no --save ""` and stops it at the end.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis
import yaml

from index import repository
from pipelines import profile as profiles
from pipelines.check import check
from pipelines.report.document import to_dict
from testmedia import cached, clips
from tests.farmkit import FarmEnv, Worker, assert_same_findings, install, new_farm, wait_for
from workers import api, indexing, sweeper
from workers import broker as brokers

pytestmark = pytest.mark.redis
QUICK_STAGES = ("speech", "onscreen", "lab")  # about the farm, not the analysis (no Whisper)


@pytest.fixture(scope="module")
def lesson(media_cache: Path) -> Path:
    return cached(media_cache, "farm-faults.mp4", clips.clip, 6.0, speech=False)


@pytest.fixture
def own_redis(tmp_path: Path):
    """A throwaway redis-server without persistence: a FLUSHALL there touches nobody else."""
    shutil.which("redis-server") or pytest.fail("redis-server is needed (make system installs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "redis").mkdir()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path / "redis"),
                             "--appendonly", "no", "--save", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_timeout=1)
    try:
        wait_for(lambda: _pings(client), 15, what="redis-server to answer")
        yield client, f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait(10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _farm(url: str, tmp_path: Path) -> FarmEnv:
    """No sweeps of the worker's own (the test runs the one pass); jobs count as lost after 1 s."""
    server = tmp_path / "server.yaml"
    server.write_text(yaml.safe_dump({"farm": {"sweep_interval_s": 600, "recover_after_s": 1}}), encoding="utf-8")
    env = new_farm(url, tmp_path)
    env.extra = {"LESSONQC_SERVER_CONFIG": str(server), "LESSONQC_WARM_MODELS": "0", "LESSONQC_TEST_SLOW_S": "4"}
    return env


@pytest.mark.allow_error_logs
def test_redis_flushed_mid_job_the_sweeper_queues_it_again_and_it_ends_with_its_normal_report(
        own_redis, lesson, monkeypatch, tmp_path):
    from workers.actors import farm

    client, url = own_redis
    env = _farm(url, tmp_path)
    install(env, monkeypatch)
    media = env.media / "flush.mp4"
    shutil.copy(lesson, media)
    worker = Worker(env, tmp_path / "worker.log", "--processes", "1", "--threads", "2", "--import", "tests.farm_plugins")
    try:
        job = api.submit(media, skip=QUICK_STAGES)
        wait_for(lambda: api.status(job)["tasks"].get("slowtest@0", {}).get("state") == "running", 60,
                 what="the slow stage to start")
        client.flushall()  # job state, queues and the active set: gone
        assert api.status(job)["state"] == "running", "the index still knows the job: --wait keeps waiting"
        done = sweeper.sweep(farm(), datetime.now(timezone.utc) + timedelta(seconds=2))
        assert done["recovered"] == 1, done
        doc = api.wait(job, timeout_s=120, poll_s=0.5)
        wait_for(lambda: brokers.store().field(job, "finished_at"), 20, what="the job state to be marked")
    finally:
        worker.stop()
    embedded = to_dict(check(media, profiles.load("micro-primary"), tmp_path / "embedded",
                             skip=frozenset(QUICK_STAGES)))
    slow = [f for f in doc["findings"] if f["code"] == "lab.test_slow"]
    assert len(slow) == 1 and doc["stages"]["slowtest"]["status"] == "ok"
    assert_same_findings({**doc, "findings": [f for f in doc["findings"] if f["code"] != "lab.test_slow"]}, embedded)
    assert doc["verdict"] == embedded["verdict"] and doc["source"] == str(media)
    assert api.status(job)["state"] == "done" and brokers.store().active() == set()
    with indexing.database().session() as session:
        row = repository.get_job(session, job)
        assert (row.status, row.verdict, row.recoveries) == ("done", embedded["verdict"], 1)
    assert "/proc/self" not in json.dumps(doc)
