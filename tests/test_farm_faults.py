"""Fault injection on the real Redis with real worker processes: every job still ends, with a report.

A stage that calls os.abort(), a report folder unwritable then writable, Redis restarted
mid-job (its own redis-server with AOF on, on another port), a worker SIGKILLed with the
default heartbeat settings, and a second delivery of a finished job's messages.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
import yaml

from testmedia import cached, clips
from tests.farmkit import FarmEnv, Worker, install, new_farm, require_redis, wait_for
from workers import api
from workers import broker as brokers

pytestmark = pytest.mark.redis
QUICK_STAGES = ("speech", "onscreen", "lab")  # the faults are about the farm, not the analysis


@pytest.fixture(scope="module")
def redis_url() -> str:
    return require_redis()


@pytest.fixture(scope="module")
def lesson(media_cache: Path) -> Path:
    return cached(media_cache, "farm-faults.mp4", clips.clip, 6.0, speech=False)


@pytest.fixture
def server_config(tmp_path: Path) -> Path:
    """A server configuration with a quick sweeper (the defaults sweep every 30 s)."""
    path = tmp_path / "server.yaml"
    path.write_text(yaml.safe_dump({"farm": {"sweep_interval_s": 1, "redrives": 1}}), encoding="utf-8")
    return path


@pytest.fixture
def quick_profile(tmp_path: Path) -> str:
    """Small time limits: a lost message makes its job stale within seconds, not hours."""
    path = tmp_path / "quick.yaml"
    farm = {"time_limit": {"base_s": 8, "per_media_s": 0.5}, "retries": 0, "min_backoff_s": 1, "max_backoff_s": 1}
    path.write_text(yaml.safe_dump({"name": "quick", "farm": farm}), encoding="utf-8")
    return str(path)


def _farm(url: str, tmp_path: Path, server: Path, **extra: str) -> FarmEnv:
    env = new_farm(url, tmp_path)
    env.extra = {"LESSONQC_SERVER_CONFIG": str(server), "LESSONQC_WARM_MODELS": "0", **extra}
    return env


def _place(env: FarmEnv, src: Path, name: str) -> Path:
    dest = env.media / name
    shutil.copy(src, dest)
    return dest


def _statuses(doc: dict) -> dict[str, str]:
    return {name: stage["status"] for name, stage in doc["stages"].items()}


@pytest.mark.allow_error_logs
def test_a_stage_that_aborts_ends_as_an_error_naming_it_and_the_node_keeps_serving(redis_url, lesson, monkeypatch,
                                                                                    tmp_path, server_config):
    env = _farm(redis_url, tmp_path, server_config, LESSONQC_TEST_ABORT="1", LESSONQC_TEST_SLOW_S="0",
                LESSONQC_HEARTBEAT_TIMEOUT_MS="2000", LESSONQC_MAINTENANCE_CHANCE="1000000")
    install(env, monkeypatch)
    worker = Worker(env, tmp_path / "worker.log", "--processes", "2", "--import", "tests.farm_plugins")
    try:
        job = api.submit(_place(env, lesson, "abort.mp4"), skip=QUICK_STAGES)
        doc = api.wait(job, timeout_s=150, poll_s=0.5)
        statuses = _statuses(doc)
        assert statuses["aborttest"] == "error" and "worker died 2 times" in doc["stages"]["aborttest"]["error"]
        assert statuses["signal"] == statuses["probe"] == statuses["slowtest"] == "ok", doc["stages"]
        assert doc["verdict"] != "error" and api.status(job)["state"] == "done"
        assert worker.proc.poll() is None, "the supervisor keeps the node up"
        log = (tmp_path / "worker.log").read_text(errors="replace")
        assert "starting it again" in log
    finally:
        worker.stop()
        env.drop_keys()


def _freeze(folder: Path) -> None:
    """Make `folder` unwritable (root ignores modes: the immutable flag instead)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder unwritable here (no chattr)")


def _thaw(folder: Path) -> None:
    if os.geteuid() != 0:
        folder.chmod(0o755)
    else:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)


@pytest.mark.allow_error_logs
def test_an_unwritable_report_folder_ends_the_job_and_the_report_follows_once_writable(redis_url, lesson, monkeypatch,
                                                                                       tmp_path, server_config):
    env = _farm(redis_url, tmp_path, server_config, LESSONQC_DATABASE_URL=f"sqlite:///{tmp_path / 'index.sqlite3'}")
    install(env, monkeypatch)
    (env.reports / ".work").mkdir(exist_ok=True)
    _freeze(env.reports)
    worker = Worker(env, tmp_path / "worker.log", "--processes", "1")
    try:
        job = api.submit(_place(env, lesson, "unwritable.mp4"), skip=QUICK_STAGES)
        status = wait_for(lambda: (s := api.status(job))["state"] in ("done", "error") and s, 90, what="the job to end")
        assert status["state"] == "error" and "report not published" in status["error"]
        assert api.report(job) is None
        _thaw(env.reports)
        doc = wait_for(lambda: api.report(job), 60, what="the sweeper to publish the report")
        assert _statuses(doc)["signal"] == "ok" and doc["verdict"] in ("pass", "review", "fail")
        assert api.status(job)["state"] == "done" and not api.status(job)["error"]
    finally:
        _thaw(env.reports)
        worker.stop()
        env.drop_keys()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_server(port: int, folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_timeout=1)
    wait_for(lambda: _pings(client), 15, what="redis-server to answer")
    return proc


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.mark.allow_error_logs
def test_redis_restarted_mid_job_with_aof_loses_nothing(lesson, monkeypatch, tmp_path, server_config, quick_profile):
    require_redis()
    shutil.which("redis-server") or pytest.fail("redis-server is needed (make system installs it)")
    port, data = _free_port(), tmp_path / "redis-data"
    data.mkdir()
    server = _redis_server(port, data)  # our own: the shared Redis on 6379 is never restarted
    env = _farm(f"redis://127.0.0.1:{port}/0", tmp_path, server_config, LESSONQC_TEST_SLOW_S="6")
    install(env, monkeypatch)
    worker = Worker(env, tmp_path / "worker.log", "--processes", "1", "--threads", "2", "--import", "tests.farm_plugins")
    try:
        # Small time limits: should a result land while Redis is still down (a slow, loaded machine), the
        # sweeper's deadline re-drives it within the wait below, as it would in production within hours.
        job = api.submit(_place(env, lesson, "restart.mp4"), quick_profile, skip=QUICK_STAGES)
        wait_for(lambda: api.status(job)["tasks"].get("slowtest@0", {}).get("state") == "running", 60,
                 what="the slow stage to start")
        server.kill()  # SIGKILL: AOF (fsync always) is all that survives
        server.wait(10)
        time.sleep(1.0)
        server = _redis_server(port, data)
        doc = api.wait(job, timeout_s=120, poll_s=0.5)
        assert _statuses(doc)["slowtest"] == "ok" and _statuses(doc)["signal"] == "ok", doc["stages"]
        assert api.status(job)["state"] == "done"
    finally:
        worker.stop()
        server.kill()
        server.wait(10)


@pytest.mark.allow_error_logs
def test_a_worker_sigkilled_with_default_heartbeat_is_finished_by_the_sweeper(redis_url, lesson, monkeypatch, tmp_path,
                                                                             server_config, quick_profile):
    env = _farm(redis_url, tmp_path, server_config, LESSONQC_TEST_SLOW_S="5")  # default heartbeat: 60 s
    install(env, monkeypatch)
    args = ("--processes", "1", "--threads", "2", "--import", "tests.farm_plugins")
    first = Worker(env, tmp_path / "worker-a.log", *args)
    try:
        job = api.submit(_place(env, lesson, "sigkill.mp4"), quick_profile, skip=QUICK_STAGES)
        wait_for(lambda: api.status(job)["tasks"].get("slowtest@0", {}).get("state") == "running", 60,
                 what="the slow stage to start")
        first.kill()
        second = Worker(env, tmp_path / "worker-b.log", *args)
        try:
            doc = api.wait(job, timeout_s=150, poll_s=0.5)  # the sweeper re-drives it (or the heartbeat requeues it)
        finally:
            second.stop()
        assert _statuses(doc)["slowtest"] == "ok" and _statuses(doc)["signal"] == "ok", doc["stages"]
        assert api.status(job)["state"] == "done"
    finally:
        first.stop()
        env.drop_keys()


def test_a_second_delivery_of_a_finished_job_s_messages_changes_nothing(redis_url, lesson, monkeypatch, tmp_path,
                                                                      server_config):
    from workers.actors import media_task, probe_job, report_job
    from workers.jobs import JobSpec

    env = _farm(redis_url, tmp_path, server_config)
    install(env, monkeypatch)
    worker = Worker(env, tmp_path / "worker.log", "--processes", "1")
    try:
        job = api.submit(_place(env, lesson, "twice.mp4"), skip=QUICK_STAGES)
        doc = api.wait(job, timeout_s=60, poll_s=0.2)
        wait_for(lambda: brokers.store().field(job, "finished_at"), 10, what="the job state to be marked")
        report = env.reports / job / "report.json"
        before = (report.stat().st_mtime_ns, api.status(job))
        spec = JobSpec.from_dict(json.loads(brokers.store().job(job)["spec"])).to_dict()
        signal_task = {"key": "signal", "queue": "media", "stages": ["signal"], "start_s": 0.0, "length_s": None}
        for message in (probe_job.message(spec), media_task.message(spec, signal_task), report_job.message(spec)):
            brokers.current().enqueue(message)
        client = redis.Redis.from_url(env.url)
        wait_for(lambda: all(client.llen(f"{env.namespace}:{q}") == 0 for q in ("probe", "media", "report")), 30,
                 what="the repeated messages to be consumed")
        time.sleep(1.0)
        after = api.status(job)
        assert report.stat().st_mtime_ns == before[0]
        assert {k: v for k, v in after.items() if v != before[1].get(k)} == {}
        assert api.report(job) == doc
        assert [p.name for p in env.reports.iterdir() if p.is_dir() and not p.name.startswith(".")] == [job]
    finally:
        worker.stop()
        env.drop_keys()


def test_a_worker_process_writes_every_threads_stack_to_its_log_on_sigusr1_and_goes_on(redis_url, lesson, monkeypatch,
                                                                                      tmp_path, server_config):
    """What ops (and the multi-host tier) read when a live worker holds a message it never runs."""
    env = _farm(redis_url, tmp_path, server_config)
    install(env, monkeypatch)
    log = tmp_path / "worker.log"
    worker = Worker(env, log, "--processes", "1")
    try:
        ready = wait_for(lambda: re.search(r"\[PID (\d+)\] \[MainThread\] \[dramatiq\.WorkerProcess\(0\)\] .*ready",
                                           log.read_text(errors="replace")), 60, what="the worker process")
        os.kill(int(ready.group(1)), signal.SIGUSR1)
        dump = wait_for(lambda: "(most recent call first)" in (text := log.read_text(errors="replace")) and text, 30,
                        what="the thread dump")
        assert "workers/sweeper.py" in dump and "dramatiq/worker.py" in dump, "every thread, the farm's own included"
        job = api.submit(_place(env, lesson, "after-dump.mp4"), skip=QUICK_STAGES)
        assert wait_for(lambda: api.status(job)["state"] in ("done", "error"), 120, what="the job") and \
            api.status(job)["state"] == "done", "the worker went on after the dump"
    finally:
        worker.stop()
        env.drop_keys()
