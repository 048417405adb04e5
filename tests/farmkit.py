"""Helpers for the farm tests: an isolated Redis namespace, worker subprocesses, report comparison."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis

if TYPE_CHECKING:
    from workers.jobs import JobSpec, Task

REPO = Path(__file__).resolve().parent.parent
TEST_DB = int(os.environ.get("LESSONQC_TEST_REDIS_DB", "13"))
REDIS_BASE = os.environ.get("LESSONQC_TEST_REDIS", "redis://127.0.0.1:6379")


def require_redis() -> str:
    """The test Redis URL; skip when Redis is absent locally, fail when it is absent in CI."""
    url = f"{REDIS_BASE}/{TEST_DB}"
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI: Redis must answer at {url} ({exc}); .ci/run starts it")
        pytest.skip(f"no Redis at {url} ({exc})")
    return url


@dataclass
class FarmEnv:
    """One isolated farm: its own key prefixes on the test DB, media root and report store."""

    url: str
    namespace: str
    media: Path
    reports: Path
    extra: dict[str, str] = field(default_factory=dict)

    def env(self, **more: str) -> dict[str, str]:
        return {"LESSONQC_REDIS_URL": self.url, "LESSONQC_NAMESPACE": self.namespace,
                "LESSONQC_STATE_PREFIX": f"{self.namespace}:state", "LESSONQC_MEDIA_ROOTS": str(self.media),
                "LESSONQC_REPORT_DIR": str(self.reports), **self.extra, **more}

    def drop_keys(self) -> None:
        client = redis.Redis.from_url(self.url)
        for key in client.scan_iter(f"{self.namespace}:*", count=500):
            client.delete(key)


def new_farm(url: str, root: Path) -> FarmEnv:
    farm = FarmEnv(url, f"lqctest-{uuid.uuid4().hex[:10]}", root / "media", root / "reports")
    farm.media.mkdir(parents=True, exist_ok=True)
    farm.reports.mkdir(parents=True, exist_ok=True)
    return farm


def install(farm: FarmEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point this test process (api.submit/status/report) at `farm`'s Redis broker and job store."""
    from workers import broker as brokers

    for key, value in farm.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LESSONQC_BROKER", raising=False)
    brokers.uninstall()
    monkeypatch.setattr(brokers, "_binding", None)  # teardown: uninstalled again (the next setup re-chooses)
    brokers.install(brokers.make_redis())


class Worker:
    """`lessonqc worker` in its own process group (so a test can SIGKILL all of it)."""

    def __init__(self, farm: FarmEnv, log: Path, *args: str, **env: str):
        cmd = [sys.executable, "-m", "cli", "worker", *args]
        self.log = log.open("ab")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **farm.env(**env)}, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the whole group: the dramatiq main process, its workers and their ffmpeg children."""
        _signal_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        _signal_group(self.proc.pid, signal.SIGKILL)
        self.log.close()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def wait_for(predicate: Any, timeout_s: float, poll_s: float = 0.1, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(poll_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


def timed_codes(doc: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """(code, start, end) of every finding, sorted (for embedded-vs-farm comparison)."""
    return sorted(((f["code"], f["start_s"], f["end_s"]) for f in doc["findings"]),
                  key=lambda t: (t[0], t[1] if t[1] is not None else -1))


def assert_same_findings(farm_doc: dict[str, Any], embedded_doc: dict[str, Any], tolerance_s: float = 1.0) -> None:
    """Same finding codes, same count per code, timestamps within `tolerance_s`."""
    farm, embedded = timed_codes(farm_doc), timed_codes(embedded_doc)
    assert [c for c, _, _ in farm] == [c for c, _, _ in embedded], (farm, embedded)
    for (code, s1, e1), (_, s2, e2) in zip(farm, embedded):
        for a, b in ((s1, s2), (e1, e2)):
            assert (a is None) == (b is None) and (a is None or abs(a - b) <= tolerance_s), (code, farm, embedded)
    assert farm_doc["verdict"] == embedded_doc["verdict"]


class ListOutbox:
    """A farm outbox that records what a step (or the sweeper) would send, in memory."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_task(self, spec: JobSpec, task: Task, time_limit_ms: int) -> None:
        self.sent.append(("task", task.key))

    def send_report(self, spec: JobSpec, time_limit_ms: int) -> None:
        self.sent.append(("report", spec.job_id))

    def send_probe(self, spec: JobSpec, time_limit_ms: int) -> None:
        self.sent.append(("probe", spec.job_id))
