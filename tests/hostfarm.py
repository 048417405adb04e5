"""The farm spread over hosts (network namespaces, tests/netkit.py), as production runs it.

Hosts: `redis` (its own redis-server), `postgres` (a throwaway cluster: initdb as the
`postgres` user), `api` (`lessonqc serve`), `cpu1` and `cpu2` (probe, media, ocr, report,
callback queues), `gpu` (speech) and `hooks` (a webhook receiver counting event ids). The
media and report folders are one shared folder, as an NFS mount would be. Every worker also
imports tests.farm_plugins: the `slowtest` stage gives a fault a stage to land in, and with
LESSONQC_TEST_MARKS set it logs which host started and finished it.

Timing is scaled down through configuration, never code: heartbeat timeout 5 s (default
60 s), sweeps every 2 s (default 30 s), callback retries every 0.5–4 s (default 2–600 s).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from tests.farmkit import REPO, assert_same_findings, wait_for
from tests.netkit import Host, Network, netem_unavailable

CLI = [sys.executable, "-m", "cli"]
CPU_QUEUES = ("probe", "media", "ocr", "report", "callback")
QUICK_STAGES = ("speech", "onscreen", "lab")  # the faults are about the farm, not the analysis (no Whisper)
SLOW = "lab.test_slow"                        # the plugin stage's finding: not in the embedded check
HEARTBEAT_MS = 5000
SECRET = "hosts-callback-secret"
SERVER_CONFIG = {"farm": {"sweep_interval_s": 2, "redrives": 2, "recover_after_s": 5}}
SERVICE_CONFIG = {"service": {"callbacks": {"timeout_s": 2, "retries": 40, "min_backoff_s": 0.5,
                                            "max_backoff_s": 4}}}
LESSON_S = 30  # one 8 s lesson through every step on a busy 2-core machine (about 10 s idle; measured)


def recovery_s() -> float:
    """The longest the farm's own timing lets a fault add before everything settles, from the configuration
    the hosts run with: a silent worker's heartbeat timeout and a sweep; a Redis call's timeout, a reconnect
    and dramatiq's consumer restart; a failed step's retry backoffs and a webhook retry's longest backoff."""
    from dramatiq.worker import CONSUMER_RESTART_DELAY_SECS

    from pipelines.media.limits import server
    from workers.settings import defaults

    farm, steps = server().farm, defaults()
    backoffs = sum(min(steps.max_backoff_s, steps.min_backoff_s * 2 ** n) for n in range(steps.retries))
    return (HEARTBEAT_MS / 1000 + SERVER_CONFIG["farm"]["sweep_interval_s"] + farm.redis_timeout_s
            + farm.redis_connect_timeout_s + CONSUMER_RESTART_DELAY_SECS + backoffs
            + SERVICE_CONFIG["service"]["callbacks"]["max_backoff_s"])


def patience_s(jobs: int = 1, fault_s: float = 0.0) -> float:
    """How long `jobs` lessons may take to settle after a fault that lasts `fault_s`: the fault, the farm's
    recovery (`recovery_s`) and each lesson's steps one after another (bounded: a hang fails the test)."""
    return fault_s + recovery_s() + LESSON_S * jobs


# Small time limits: a job counts as stale after ~30 s, so a host 5 minutes ahead would end jobs early.
QUICK_PROFILE = {"name": "quick", "farm": {"time_limit": {"base_s": 10, "per_media_s": 1.0}, "retries": 0}}
SPEECH_LANE = {"name": "speechlane", "farm": {"queues": {"slowtest": "speech"}}}  # the slow stage on the GPU host


@dataclass
class HostFarm:
    """The running hosts, their processes by role, the shared folder and what a test needs to talk to them."""

    net: Network
    root: Path
    pgdata: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    token: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # more environment for every farm process

    # ---- where things are ----

    def host(self, name: str) -> Host:
        return self.net.hosts[name]

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def marks(self) -> Path:
        return self.root / "marks"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.host('redis').ip}:6379/0"

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.host('postgres').ip}:5432/postgres"

    @property
    def api_url(self) -> str:
        return f"http://{self.host('api').ip}:8080"

    @property
    def hook_url(self) -> str:
        return f"http://{self.host('hooks').ip}:8090/hook"

    def env(self, **more: str) -> dict[str, str]:
        """Environment of every farm process: this one's (PYTHONPATH, the model guard) plus the farm's."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("LESSONQC_") or k in (
            "LESSONQC_MODEL_DIR", "LESSONQC_FORBID_MODEL", "LESSONQC_TEST_CACHE")}
        return {**base, "LESSONQC_REDIS_URL": self.redis_url, "LESSONQC_DATABASE_URL": self.database_url,
                "LESSONQC_MEDIA_ROOTS": str(self.media), "LESSONQC_REPORT_DIR": str(self.reports),
                "LESSONQC_SERVER_CONFIG": str(self.root / "server.yaml"),
                "LESSONQC_SERVICE_CONFIG": str(self.root / "service.yaml"),
                "LESSONQC_CALLBACK_HOSTS": self.host("hooks").ip, "LESSONQC_CALLBACK_SECRET": SECRET,
                "LESSONQC_PUBLIC_URL": self.api_url, "LESSONQC_WARM_MODELS": "0",
                "LESSONQC_HEARTBEAT_TIMEOUT_MS": str(HEARTBEAT_MS), "LESSONQC_MAINTENANCE_CHANCE": "1000000",
                "LESSONQC_TEST_SLOW_S": "4", "LESSONQC_TEST_MARKS": str(self.marks), **self.extra, **more}

    def log(self, role: str) -> Path:
        return self.root / "logs" / f"{role}.log"

    # ---- the hosts' services ----

    def start_redis(self) -> None:
        host, data = self.host("redis"), self.root / "redis"
        data.mkdir(exist_ok=True)
        self.procs["redis"] = host.start(["redis-server", "--bind", host.ip, "--port", "6379", "--protected-mode", "no",
                                          "--dir", str(data), "--appendonly", "yes", "--save", ""], self.log("redis"))
        wait_for(lambda: _pings(self.client()), 20, what="redis-server to answer")

    def start_postgres(self) -> None:
        host = self.host("postgres")
        argv = ["runuser", "-u", "postgres", "--", str(pg_bin() / "postgres"), "-D", str(self.pgdata),
                "-c", f"listen_addresses={host.ip}", "-c", "port=5432", "-c", f"unix_socket_directories={self.pgdata}",
                "-c", "fsync=off", "-c", "full_page_writes=off"]
        self.procs["postgres"] = host.start(argv, self.log("postgres"))
        wait_for(self._pg_answers, 30, what="PostgreSQL to answer")

    def restart_postgres(self, down_s: float) -> None:
        """A fast shutdown (clients are disconnected), `down_s` without a server, then the same cluster again."""
        self.host("postgres").stop(self.procs.pop("postgres"), signal.SIGINT, 30)
        time.sleep(down_s)
        self.start_postgres()

    def _pg_answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.database_url.replace("+psycopg", ""), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def start_api(self) -> None:
        host = self.host("api")
        argv = [*CLI, "serve", "--host", host.ip, "--port", "8080"]
        self.procs["api"] = host.start(argv, self.log("api"), self.env(), REPO)
        wait_for(lambda: _answers(f"{self.api_url}/healthz"), 90, poll_s=0.5, what="lessonqc serve to answer")

    def start_worker(self, name: str, queues: tuple[str, ...] = CPU_QUEUES, **env: str) -> None:
        argv = [*CLI, "worker", "--queues", *queues, "--processes", "1", "--threads", "2",
                "--import", "tests.farm_plugins"]
        self.procs[name] = self.host(name).start(argv, self.log(name), self.env(LESSONQC_TEST_HOST=name, **env), REPO)

    def stop_worker(self, name: str) -> None:
        self.host(name).stop(self.procs.pop(name), signal.SIGTERM, 20)

    @contextmanager
    def slow_link(self, name: str, queues: tuple[str, ...], delay_ms: int, jitter_ms: int,
                  loss_pct: float) -> Iterator[str]:
        """Within: host `name` behind a slow lossy link; yields how it is made. `tc netem` on its link where
        the kernel offers it; else the user-space relay of tests/slowlink.py inside the host, its worker
        started again to reach Redis and PostgreSQL through it (the same delay both ways, a lost segment
        costing a retransmission timeout, as TCP hands such a link's bytes to the application)."""
        host = self.host(name)
        if netem_unavailable() is None:
            self.net.shape(host, delay_ms, jitter_ms, loss_pct)
            try:
                yield "tc netem"
            finally:
                self.net.unshape(host)
            return
        redis_ip, pg_ip = self.host("redis").ip, self.host("postgres").ip
        argv = [sys.executable, "-m", "tests.slowlink", "--delay-ms", str(delay_ms), "--jitter-ms", str(jitter_ms),
                "--loss-pct", str(loss_pct), f"16379:{redis_ip}:6379", f"15432:{pg_ip}:5432"]
        relay = host.start(argv, self.log(f"{name}-relay"), self.env(), REPO)
        wait_for(lambda: "relaying" in self.log(f"{name}-relay").read_text(errors="replace"), 20,
                 what="the slow link relay")
        self.stop_worker(name)
        self.start_worker(name, queues, LESSONQC_REDIS_URL="redis://127.0.0.1:16379/0",
                          LESSONQC_DATABASE_URL=self.database_url.replace(f"{pg_ip}:5432", "127.0.0.1:15432"))
        try:
            yield "user-space relay (tests/slowlink.py; no netem in this kernel)"
        finally:
            self.stop_worker(name)
            host.stop(relay)
            self.start_worker(name, queues)
            self.wait_workers(3)

    def skewed_env(self, ahead_s: int) -> dict[str, str]:
        """The host's wall clock `ahead_s` seconds ahead for its Python processes (tests/clockahead: a time
        namespace moves only the monotonic and boot clocks, and libfaketime hangs Python's timed waits)."""
        return {"PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "clockahead"), os.environ.get("PYTHONPATH", "")]),
                "LESSONQC_TEST_CLOCK_AHEAD_S": str(ahead_s)}

    def start_receiver(self) -> None:
        host = self.host("hooks")
        argv = [sys.executable, "-m", "tests.webhook_receiver", host.ip, "8090", str(self.root / "webhooks.jsonl")]
        self.procs["hooks"] = host.start(argv, self.log("hooks"), self.env(), REPO)
        wait_for(lambda: _answers(self.hook_url, method="POST"), 20, what="the webhook receiver")
        (self.root / "webhooks.jsonl").unlink(missing_ok=True)  # the readiness probe's line

    def wait_workers(self, count: int) -> None:
        """Until `count` worker processes have fetched from Redis (their heartbeats are fresh)."""
        def fresh() -> bool:
            now_ms = self.client().time()[0] * 1000
            return self.client().zcount("dramatiq:__heartbeats__", now_ms - HEARTBEAT_MS, "+inf") >= count
        wait_for(fresh, 120, poll_s=0.5, what=f"{count} workers to fetch")

    # ---- talking to the farm ----

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, decode_responses=True, socket_timeout=3, socket_connect_timeout=3)

    def http(self, timeout_s: float = 30) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=timeout_s)

    def place(self, lesson: Path) -> Path:
        """A copy of `lesson` under the shared media root (one file per job, as uploads are)."""
        dest = self.media / f"{uuid.uuid4().hex[:10]}{lesson.suffix}"
        shutil.copy(lesson, dest)
        return dest

    def submit(self, lesson: Path, **fields: Any) -> str:
        """POST /api/v1/jobs with a media reference and the receiver as callback; the job id."""
        body = {"media": str(self.place(lesson)), "skip": list(QUICK_STAGES), "callback_url": self.hook_url, **fields}
        with self.http() as http:
            answer = http.post("/api/v1/jobs", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def submit_direct(self, lesson: Path, profile: str, monkeypatch: pytest.MonkeyPatch) -> str:
        """`workers.api.submit` from this process (the platform's Python interface), for a profile file
        of the shared folder; the receiver as callback."""
        from workers import api
        from workers import broker as brokers
        from workers import serviceconfig

        for key, value in self.env().items():
            if key.startswith("LESSONQC_"):
                monkeypatch.setenv(key, value)
        brokers.uninstall()
        monkeypatch.setattr(brokers, "_binding", None)  # teardown: the next setup chooses again
        brokers.install(brokers.make_redis())
        serviceconfig.load.cache_clear()
        return api.submit(self.place(lesson), str(self.root / profile), skip=QUICK_STAGES,
                          details=api.Details(callback_url=self.hook_url))

    def job_report(self, job_id: str) -> dict[str, Any]:
        with self.http() as http:
            return http.get(f"/api/v1/jobs/{job_id}/report").json()

    def job(self, job_id: str) -> dict[str, Any]:
        with self.http() as http:
            return http.get(f"/api/v1/jobs/{job_id}").json()

    def wait_done(self, job_ids: list[str], timeout_s: float) -> None:
        pending = set(job_ids)

        def all_done() -> bool:
            for job_id in sorted(pending):
                if self.job(job_id).get("status") in ("done", "error"):
                    pending.discard(job_id)
            return not pending
        wait_for(all_done, timeout_s, poll_s=1.0, what=f"jobs {sorted(pending)} to end")

    def webhooks(self) -> list[dict[str, Any]]:
        path = self.root / "webhooks.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def note(self, test: str, **figures: float | str) -> None:
        """Record measured figures (figures.jsonl in the shared folder: docs/farm-faults.md quotes them)."""
        with (self.root / "figures.jsonl").open("a", encoding="utf-8") as out:
            out.write(json.dumps({"test": test, **figures}) + "\n")

    def slow_marks(self) -> list[tuple[str, str, str, str]]:
        """(host, event start|end, job id, pid) of every run of the slowtest stage, in order per host."""
        rows = []
        for log in sorted(self.marks.glob("*.log")):
            rows += [(log.stem, *line.split()[:3]) for line in log.read_text().splitlines() if line.strip()]
        return rows

    # ---- the outcome every fault test ends with ----

    def settle(self, job_ids: list[str], timeout_s: float = 90) -> None:
        """Until every job ended, every webhook arrived and no message is queued or held by a worker, all
        within `timeout_s`; a timeout names what is still in flight (`held`)."""
        deadline = time.monotonic() + timeout_s
        self.wait_done(job_ids, timeout_s)
        wait_for(lambda: {h["job_id"] for h in self.webhooks() if h["event"] == "report.published"} >= set(job_ids),
                 max(1.0, deadline - time.monotonic()), poll_s=0.5, what="a report.published webhook per job")
        while self.in_flight():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout_s:.0f} s waiting for no message queued or in a worker's "
                            "hands; still there:\n" + "\n".join(self.held()))
            time.sleep(0.5)

    def in_flight(self) -> dict[str, int]:
        """Messages queued, delayed, dead or unacknowledged (held by a worker), by Redis key."""
        client, found = self.client(), {}
        for key in client.scan_iter("dramatiq:*", count=500):
            kind = client.type(key)
            size = {"list": client.llen, "set": client.scard, "zset": client.zcard}.get(kind, lambda _k: 0)(key)
            if size and (kind != "zset" or key.endswith(".XQ")) and not key.endswith(".msgs"):
                found[key] = size
        return found

    def held(self) -> list[str]:
        """One line per message `in_flight` counts: its key, actor, job, tries, ETA against Redis's clock, and
        for a held one how old its holder's heartbeat is (a live holder that never settles it is a farm bug)."""
        client = self.client()
        seconds, micros = client.time()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        beats = {k: float(v) for k, v in client.zrange("dramatiq:__heartbeats__", 0, -1, withscores=True)}
        lines = []
        for key in sorted(self.in_flight()):
            kind = client.type(key)
            ids = (client.lrange(key, 0, -1) if kind == "list" else client.smembers(key) if kind == "set"
                   else client.zrange(key, 0, -1))
            if key.startswith("dramatiq:__acks__."):
                holder, queue = key.removeprefix("dramatiq:__acks__.").split(".", 1)
                beat = beats.get(holder)
                age = "gone" if beat is None else f"{(now_ms - beat) / 1000:.1f} s old"
                where = f"held by {holder[:8]} (heartbeat {age})"
                messages = f"dramatiq:{queue}.msgs"
            else:
                where, messages = f"in {key}", f"{key}.msgs"
            for message_id in sorted(ids):
                lines.append(f"{where}: {_describe_message(client.hget(messages, message_id), now_ms, client)}")
        return lines

    def log_sizes(self) -> dict[str, int]:
        """Bytes of each role's log now (`diagnose` shows what came after)."""
        return {p.stem: p.stat().st_size for p in sorted((self.root / "logs").glob("*.log"))}

    def diagnose(self, since: dict[str, int], lines: int = 40) -> str:
        """What a failed test leaves to read: the messages still in flight, and the last `lines` lines each
        host logged during the test (the whole logs stay under the shared folder's logs/)."""
        parts = [f"logs: {self.root / 'logs'}"]
        try:
            parts += ["in flight:", *(self.held() or ["nothing"])]
        except redis.RedisError as exc:
            parts.append(f"in flight: Redis does not answer ({exc})")
        before_dump = self.log_sizes()
        dumps = self.dump_threads()
        for path in sorted((self.root / "logs").glob("*.log")):
            with path.open("rb") as log:
                log.seek(since.get(path.stem, 0))
                tail = log.read(max(0, before_dump.get(path.stem, 0) - since.get(path.stem, 0)))
            tail_lines = tail.decode("utf-8", "replace").splitlines()[-lines:]
            parts += [f"---- {path.stem} (last {len(tail_lines)} lines of this test) ----", *tail_lines]
        for host, text in dumps.items():
            parts += [f"---- {host}: every worker thread's stack now (SIGUSR1) ----", text]
        return "\n".join(parts)

    def dump_threads(self) -> dict[str, str]:
        """Each worker host's thread stacks at this moment (`workers.broker.ThreadDumps`): what a worker that
        holds a message without running it is doing."""
        sizes, signalled = self.log_sizes(), []
        for path in sorted((self.root / "logs").glob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace")
            for pid in sorted({int(p) for p in re.findall(r"\[PID (\d+)\] \[MainThread\] \[dramatiq\.WorkerProcess", text)}):
                try:
                    if b"dramatiq" in Path(f"/proc/{pid}/cmdline").read_bytes():  # alive, and not a reused pid
                        os.kill(pid, signal.SIGUSR1)
                        signalled.append(path.stem)
                except OSError:
                    continue
        time.sleep(1.0 if signalled else 0)
        dumps = {}
        for stem in sorted(set(signalled)):
            with self.log(stem).open("rb") as log:
                log.seek(sizes.get(stem, 0))
                dumps[stem] = log.read().decode("utf-8", "replace")
        return dumps

    def assert_outcome(self, job_ids: list[str], lesson: Path, runs: int | None = 1) -> None:
        """Every job done once with the embedded check's findings, one webhook per event id, nothing left
        running; `runs`: how often each job's slowtest stage may have started (None: not checked)."""
        embedded = embedded_report(lesson)
        client = self.client()
        with self.http() as http:
            for job_id in job_ids:
                detail = http.get(f"/api/v1/jobs/{job_id}").json()
                assert detail["status"] == "done", detail
                doc = http.get(f"/api/v1/jobs/{job_id}/report").json()
                assert [f["code"] for f in doc["findings"]].count(SLOW) == 1, doc["findings"]
                assert_same_findings({**doc, "findings": [f for f in doc["findings"] if f["code"] != SLOW]}, embedded)
                assert client.hget(f"lessonqc:job:{job_id}", "state") == "done"
        assert client.smembers("lessonqc:active") == set() and client.smembers("lessonqc:republish") == set()
        published = sorted(p.name for p in self.reports.iterdir() if p.is_dir() and not p.name.startswith("."))
        assert set(job_ids) <= set(published)
        self._assert_webhooks(job_ids)
        self._assert_index(job_ids)
        if runs is not None:
            started = Counter(job for _, event, job, _ in self.slow_marks() if event == "start" and job in job_ids)
            assert all(started[j] == runs for j in job_ids), f"slowtest runs per job: {dict(started)}"

    def _assert_webhooks(self, job_ids: list[str]) -> None:
        hooks = [h for h in self.webhooks() if h["job_id"] in job_ids]
        per_event = Counter((h["event"], h["job_id"], h["decision"]) for h in {h["id"]: h for h in hooks}.values())
        doubled = {k: n for k, n in per_event.items() if n != 1}
        assert not doubled, f"events with more than one event id: {doubled}"
        published = {h["job_id"] for h in hooks if h["event"] == "report.published"}
        assert published == set(job_ids), f"report.published missing for {set(job_ids) - published}"
        deliveries = Counter(h["id"] for h in hooks)
        assert all(n == 1 for n in deliveries.values()), f"an event delivered more than once: {deliveries}"

    def _assert_index(self, job_ids: list[str]) -> None:
        from sqlalchemy import func, select

        from index.db import open_database
        from index.models import Finding, Job

        database = open_database(self.database_url, migrate=False)
        with database.session() as session:
            rows = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(job_ids)))}
            unfinished = session.scalar(select(func.count()).select_from(Job)
                                        .where(Job.status.in_(("queued", "running"))))
            counts = dict(session.execute(select(Finding.job_id, func.count()).where(Finding.job_id.in_(job_ids))
                                          .group_by(Finding.job_id)).all())
        assert unfinished == 0
        for job_id in job_ids:
            assert (rows[job_id].status, rows[job_id].callback_state) == ("done", "delivered"), job_id
            doc = json.loads((self.reports / job_id / "report.json").read_text(encoding="utf-8"))
            assert counts.get(job_id, 0) == len(doc["findings"]), (job_id, counts.get(job_id), len(doc["findings"]))

    def exited(self, *roles: str) -> list[str]:
        """The roles among `roles` whose process has exited (none, when nothing restarted)."""
        return [r for r in roles if self.procs[r].poll() is not None]


def build(root: Path, **extra: str) -> HostFarm:
    """Start every host of the module docstring, `extra` in their environment; the caller tears the network
    down (`teardown`)."""
    for folder in ("media", "reports", "logs", "marks"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "server.yaml").write_text(yaml.safe_dump(SERVER_CONFIG), encoding="utf-8")
    (root / "service.yaml").write_text(yaml.safe_dump(SERVICE_CONFIG), encoding="utf-8")
    (root / "quick.yaml").write_text(yaml.safe_dump(QUICK_PROFILE), encoding="utf-8")
    (root / "speechlane.yaml").write_text(yaml.safe_dump(SPEECH_LANE), encoding="utf-8")
    net = Network()
    farm = HostFarm(net, root, Path(tempfile.mkdtemp(prefix=f"{net.prefix}-pg-")), extra=extra)
    try:
        for name in ("redis", "postgres", "api", "cpu1", "cpu2", "gpu", "hooks"):
            net.add(name)
        init_postgres(farm.pgdata, net.subnet)
        farm.start_redis()
        farm.start_postgres()
        farm.start_receiver()
        farm.start_api()
        farm.token = make_token(farm.database_url)
        for name in ("cpu1", "cpu2"):
            farm.start_worker(name)
        farm.start_worker("gpu", ("speech",))
        farm.wait_workers(3)
    except BaseException:
        teardown(farm)
        raise
    return farm


def teardown(farm: HostFarm) -> None:
    farm.net.teardown()
    shutil.rmtree(farm.pgdata, ignore_errors=True)
    assert farm.net.leftovers() == [], farm.net.leftovers()


@lru_cache(maxsize=1)
def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        pytest.fail("PostgreSQL server binaries are needed (/usr/lib/postgresql/*/bin; .ci/run installs them)")
    return found[-1].parent


def init_postgres(data: Path, subnet: str) -> None:
    """A throwaway cluster owned by the `postgres` user (trust auth, also from the hosts' LAN)."""
    shutil.chown(data, "postgres")
    data.chmod(0o700)
    subprocess.run(["runuser", "-u", "postgres", "--", str(pg_bin() / "initdb"), "-D", str(data), "-A", "trust",
                    "-U", "postgres", "--no-sync"], check=True, capture_output=True, timeout=120)
    with (data / "pg_hba.conf").open("a", encoding="utf-8") as hba:
        hba.write(f"host all all {subnet}.0/24 trust\n")


def make_token(database_url: str) -> str:
    from index import tokens
    from index.db import open_database

    with open_database(database_url, migrate=False).session() as session:
        return tokens.create(session, "platform")


@lru_cache(maxsize=4)
def embedded_report(lesson: Path) -> dict[str, Any]:
    """What `lessonqc check` says of `lesson` with the same stages skipped."""
    from pipelines import profile as profiles
    from pipelines.check import check
    from pipelines.report.document import to_dict

    out = Path(tempfile.mkdtemp(prefix="lqhosts-embedded-"))
    try:
        return to_dict(check(lesson, profiles.load("micro-primary"), out, skip=frozenset(QUICK_STAGES)))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def unavailable() -> str | None:
    """Why the hosts cannot be built here (None: they can)."""
    from tests.netkit import why_unavailable

    if reason := why_unavailable():
        return reason
    for tool in ("redis-server", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def _describe_message(data: str | None, now_ms: int, client: redis.Redis) -> str:
    """actor, job (and its state), tries and ETA of one dramatiq message (as stored in a `.msgs` hash)."""
    if data is None:
        return "(no message data)"
    doc = json.loads(data)
    first = (doc.get("args") or [None])[0]
    job = first.get("job_id") if isinstance(first, dict) else first
    options = doc.get("options") or {}
    state = client.hget(f"lessonqc:job:{job}", "state") if isinstance(job, str) else None
    eta = f", eta {(options['eta'] - now_ms) / 1000:+.1f} s" if options.get("eta") else ""
    return (f"{doc.get('actor_name')} job {job} ({state or 'no state'}), retries {options.get('retries', 0)}{eta}, "
            f"message {doc.get('message_id', '')[:8]}")


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _answers(url: str, method: str = "GET") -> bool:
    try:
        httpx.request(method, url, timeout=2, content=b"{}")
        return True
    except httpx.HTTPError:
        return False
