"""Job state: queued -> running -> done | error, with a state per task (stage or segment).

Three hashes per job (Redis, or memory with the StubBroker):
  {prefix}:job:{id}        spec, state, times, probe, plan, verdict, report
  {prefix}:job:{id}:tasks  task key -> {"state": queued|running|done|error, "queue", "seconds", "error"}
  {prefix}:job:{id}:parts  task key -> the task's result (set once: HSETNX)
A redelivered task (its worker died before the ack) finds its part already set and
is not counted twice; `finish` is set-once too, so a job gets exactly one report.
Times are stamped on the backend's clock: Redis's for the Redis backend (workers/clock.py).
"""
from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import redis

from pipelines.errors import LessonQCError
from pipelines.media.limits import server

from .clock import RedisClock

QUEUED, RUNNING, DONE, ERROR = "queued", "running", "done", "error"
FINISHED = (DONE, ERROR)

_COMPLETE_LUA = """
local new = redis.call('hsetnx', KEYS[1], ARGV[1], ARGV[2])
if new == 1 then redis.call('hset', KEYS[2], ARGV[1], ARGV[3]) end
return {new, redis.call('hlen', KEYS[1])}
"""
_FINISH_LUA = """
if redis.call('hsetnx', KEYS[1], 'finished_at', ARGV[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""


class JobNotFound(LessonQCError):
    """No job with this id in the job state (nor a report in the report store)."""


class JobExists(LessonQCError):
    """A job with this id was submitted before: an id is never reused (a finished job is never reset)."""


class JobLost(LessonQCError):
    """The queue lost a job (Redis flushed, or restarted without AOF) and it cannot be queued again."""


class JobFailed(LessonQCError):
    """A job ended in error without publishing a report."""


@dataclass(frozen=True)
class Completion:
    """What recording one task result did: whether it was new, and how many tasks are done."""

    new: bool
    done: int


def stamp(seconds: float) -> str:
    """An ISO UTC time stamp (sortable as text) of epoch `seconds`."""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds")


class Backend(ABC):
    """The few hash operations the job state needs, two of them atomic, and the clock to stamp them with."""

    def time(self) -> float:
        """Epoch seconds on the farm's clock (this host's, unless the backend has a shared one)."""
        return time.time()

    @abstractmethod
    def hget(self, key: str, field: str) -> str | None: ...

    @abstractmethod
    def hgetall(self, key: str) -> dict[str, str]: ...

    @abstractmethod
    def hset(self, key: str, mapping: dict[str, str]) -> None: ...

    @abstractmethod
    def hsetnx(self, key: str, field: str, value: str) -> bool: ...

    @abstractmethod
    def complete(self, parts: str, tasks: str, field: str, part: str, status: str) -> tuple[bool, int]:
        """Set parts[field] once; on the first set also tasks[field]; return (new, len(parts))."""

    @abstractmethod
    def finish(self, key: str, finished_at: str, mapping: dict[str, str]) -> bool:
        """Set key.finished_at once; on the first set also `mapping`; return whether this call did."""

    @abstractmethod
    def expire(self, keys: list[str], ttl_s: int) -> None: ...

    @abstractmethod
    def hincrby(self, key: str, field: str, by: int) -> int: ...

    @abstractmethod
    def sadd(self, key: str, member: str) -> None: ...

    @abstractmethod
    def srem(self, key: str, member: str) -> None: ...

    @abstractmethod
    def smembers(self, key: str) -> set[str]: ...

    @abstractmethod
    def take_lock(self, name: str, ttl_s: int) -> bool:
        """Take a lock named `name` for `ttl_s` seconds unless someone holds it."""

    @abstractmethod
    def drop_lock(self, name: str) -> None:
        """Release a lock this process took."""


class RedisBackend(Backend):
    """Job state in Redis (decode_responses client)."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self.clock = RedisClock(client, server().farm.clock_refresh_s)
        self._complete = client.register_script(_COMPLETE_LUA)
        self._finish = client.register_script(_FINISH_LUA)

    def time(self) -> float:
        return self.clock.time()

    def hget(self, key: str, field: str) -> str | None:
        return self.client.hget(key, field)

    def hgetall(self, key: str) -> dict[str, str]:
        return self.client.hgetall(key)

    def hset(self, key: str, mapping: dict[str, str]) -> None:
        self.client.hset(key, mapping=mapping)

    def hsetnx(self, key: str, field: str, value: str) -> bool:
        return bool(self.client.hsetnx(key, field, value))

    def complete(self, parts: str, tasks: str, field: str, part: str, status: str) -> tuple[bool, int]:
        new, count = self._complete(keys=[parts, tasks], args=[field, part, status])
        return bool(new), int(count)

    def finish(self, key: str, finished_at: str, mapping: dict[str, str]) -> bool:
        flat = [item for pair in mapping.items() for item in pair]
        return bool(self._finish(keys=[key], args=[finished_at, *flat]))

    def expire(self, keys: list[str], ttl_s: int) -> None:
        with self.client.pipeline() as pipe:
            for key in keys:
                pipe.expire(key, ttl_s)
            pipe.execute()

    def hincrby(self, key: str, field: str, by: int) -> int:
        return int(self.client.hincrby(key, field, by))

    def sadd(self, key: str, member: str) -> None:
        self.client.sadd(key, member)

    def srem(self, key: str, member: str) -> None:
        self.client.srem(key, member)

    def smembers(self, key: str) -> set[str]:
        return set(self.client.smembers(key))

    def take_lock(self, name: str, ttl_s: int) -> bool:
        return bool(self.client.set(name, "1", nx=True, ex=max(1, ttl_s)))

    def drop_lock(self, name: str) -> None:
        self.client.delete(name)


class MemoryBackend(Backend):
    """Job state in this process (StubBroker tests and `LESSONQC_BROKER=stub`)."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, str]] = {}
        self.lock = threading.Lock()

    def hget(self, key: str, field: str) -> str | None:
        with self.lock:
            return self.data.get(key, {}).get(field)

    def hgetall(self, key: str) -> dict[str, str]:
        with self.lock:
            return dict(self.data.get(key, {}))

    def hset(self, key: str, mapping: dict[str, str]) -> None:
        with self.lock:
            self.data.setdefault(key, {}).update(mapping)

    def hsetnx(self, key: str, field: str, value: str) -> bool:
        with self.lock:
            return self._setnx(key, field, value)

    def _setnx(self, key: str, field: str, value: str) -> bool:
        bucket = self.data.setdefault(key, {})
        if field in bucket:
            return False
        bucket[field] = value
        return True

    def complete(self, parts: str, tasks: str, field: str, part: str, status: str) -> tuple[bool, int]:
        with self.lock:
            new = self._setnx(parts, field, part)
            if new:
                self.data.setdefault(tasks, {})[field] = status
            return new, len(self.data[parts])

    def finish(self, key: str, finished_at: str, mapping: dict[str, str]) -> bool:
        with self.lock:
            if not self._setnx(key, "finished_at", finished_at):
                return False
            self.data[key].update(mapping)
            return True

    def expire(self, keys: list[str], ttl_s: int) -> None:
        """Memory state lives as long as the process."""

    def hincrby(self, key: str, field: str, by: int) -> int:
        with self.lock:
            bucket = self.data.setdefault(key, {})
            bucket[field] = str(int(bucket.get(field, "0")) + by)
            return int(bucket[field])

    def sadd(self, key: str, member: str) -> None:
        self.hset(key, {member: "1"})

    def srem(self, key: str, member: str) -> None:
        with self.lock:
            self.data.get(key, {}).pop(member, None)

    def smembers(self, key: str) -> set[str]:
        return set(self.hgetall(key))

    def take_lock(self, name: str, ttl_s: int) -> bool:
        return True

    def drop_lock(self, name: str) -> None:
        """Memory state has one process: nothing to release."""


class JobStore:
    """Job and task state over a Backend; every write is safe to repeat (redelivery)."""

    def __init__(self, backend: Backend, prefix: str = "lessonqc"):
        self.backend = backend
        self.prefix = prefix

    def clock(self) -> float:
        """Epoch seconds on the farm's clock (Redis's for a Redis store)."""
        return self.backend.time()

    def now(self) -> datetime:
        """Now on the farm's clock (what job state is stamped with and the sweeper judges by)."""
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    def _stamp(self) -> str:
        return stamp(self.backend.time())

    @contextmanager
    def exclusive(self, name: str, ttl_s: int) -> Iterator[bool]:
        """Hold the farm-wide lock `name` while the block runs; yields False when another process holds it."""
        key = f"{self.prefix}:lock:{name}"
        taken = self.backend.take_lock(key, ttl_s)
        try:
            yield taken
        finally:
            if taken:
                self.backend.drop_lock(key)

    def note_sent(self, name: str, outcome: dict[str, Any], ttl_s: int) -> None:
        """Remember for `ttl_s` the final outcome of a webhook attempt `name` until the index records it."""
        key = f"{self.prefix}:sent:{name}"
        self.backend.hset(key, {"outcome": json.dumps(outcome)})
        self.backend.expire([key], ttl_s)

    def sent(self, name: str) -> dict[str, Any] | None:
        """The outcome `note_sent` remembered (None: none)."""
        text = self.backend.hget(f"{self.prefix}:sent:{name}", "outcome")
        return json.loads(text) if text else None

    def _key(self, job_id: str, kind: str = "") -> str:
        return f"{self.prefix}:job:{job_id}" + (f":{kind}" if kind else "")

    def create(self, job_id: str, spec: dict[str, Any], profile: dict[str, Any] | None = None) -> None:
        """Record a new job once, with the profile validated at submit; JobExists when the id is taken."""
        if not self.backend.hsetnx(self._key(job_id), "spec", json.dumps(spec)):
            raise JobExists(f"job {job_id} already exists: job ids are never reused")
        fields = {"state": QUEUED, "submitted_at": self._stamp()}
        if profile is not None:
            fields["profile"] = json.dumps(profile, sort_keys=True, default=str)
        self.backend.hset(self._key(job_id), fields)
        self.backend.sadd(self._active(), job_id)

    def _active(self) -> str:
        return f"{self.prefix}:active"

    def active(self) -> set[str]:
        """Jobs submitted and not finished (the sweeper's worklist)."""
        return self.backend.smembers(self._active())

    def begin_delivery(self, job_id: str, key: str) -> int:
        """Count one delivery of a job's message; return how many earlier ones never ended (crashes)."""
        return self.backend.hincrby(self._key(job_id, "deliveries"), key, 1) - 1

    def end_delivery(self, job_id: str, key: str) -> None:
        """The delivery ended (done, or an exception the broker handles): it was no crash."""
        self.backend.hincrby(self._key(job_id, "deliveries"), key, -1)

    def note(self, job_id: str, **fields: str) -> None:
        """Set plain fields of the job hash (sweeper bookkeeping, publish errors)."""
        self.backend.hset(self._key(job_id), fields)

    def field(self, job_id: str, name: str) -> str | None:
        return self.backend.hget(self._key(job_id), name)

    def mark_republish(self, job_id: str, redo: str) -> None:
        """The job ended but its report could not be written: remember how to build it again."""
        self.note(job_id, republish=redo)
        self.backend.sadd(f"{self.prefix}:republish", job_id)

    def unmark_republish(self, job_id: str) -> None:
        self.backend.srem(f"{self.prefix}:republish", job_id)

    def to_republish(self) -> set[str]:
        return self.backend.smembers(f"{self.prefix}:republish")

    def profile(self, job_id: str) -> str | None:
        """The job's profile snapshot (JSON text), or None for a job submitted without one."""
        return self.backend.hget(self._key(job_id), "profile")

    def job(self, job_id: str) -> dict[str, str]:
        """The job hash; JobNotFound also for fields without a spec (a step's writes after Redis lost the job)."""
        fields = self.backend.hgetall(self._key(job_id))
        if "spec" not in fields:
            raise JobNotFound(f"unknown job {job_id}")
        return fields

    def state(self, job_id: str) -> str:
        return self.backend.hget(self._key(job_id), "state") or ""

    def is_finished(self, job_id: str) -> bool:
        return self.state(job_id) in FINISHED

    def mark_running(self, job_id: str) -> None:
        if self.backend.hsetnx(self._key(job_id), "started_at", self._stamp()) and not self.is_finished(job_id):
            self.backend.hset(self._key(job_id), {"state": RUNNING})
        self.progressed(job_id)

    def progressed(self, job_id: str) -> None:
        """A step of the job started or ended (the sweeper measures staleness from the last one)."""
        self.backend.hset(self._key(job_id), {"progress_at": self._stamp()})

    def keep_probe(self, job_id: str, doc: dict[str, Any]) -> dict[str, Any]:
        """Store the probe entry unless a run of the probe step stored one first; return the stored one. Two runs
        at once (a redelivery while the first still runs) plan from the same entry, and a package job's tasks
        read the files the first run unpacked, which no later run touches."""
        self.backend.hsetnx(self._key(job_id), "probe", json.dumps(doc))
        self.progressed(job_id)
        return self.probe(job_id) or doc

    def probe(self, job_id: str) -> dict[str, Any] | None:
        return _loads(self.backend.hget(self._key(job_id), "probe"))

    def save_plan(self, job_id: str, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store the job's task list once (a redelivered probe keeps the first); return the stored one."""
        if self.backend.hsetnx(self._key(job_id), "plan", json.dumps(tasks)):
            statuses = {t["key"]: json.dumps({"state": QUEUED, "queue": t["queue"]}) for t in tasks}
            self.backend.hset(self._key(job_id, "tasks"), statuses)
        return self.plan(job_id) or []

    def plan(self, job_id: str) -> list[dict[str, Any]] | None:
        return _loads(self.backend.hget(self._key(job_id), "plan"))

    def task_started(self, job_id: str, key: str, queue: str) -> None:
        if self.backend.hget(self._key(job_id, "parts"), key) is None:
            status = {"state": RUNNING, "queue": queue, "started_at": self._stamp()}
            self.backend.hset(self._key(job_id, "tasks"), {key: json.dumps(status)})
            self.progressed(job_id)

    def complete(self, job_id: str, key: str, part: dict[str, Any], status: dict[str, Any]) -> Completion:
        """Record a task's result once; a repeat (redelivery) changes nothing."""
        new, done = self.backend.complete(self._key(job_id, "parts"), self._key(job_id, "tasks"), key,
                                          json.dumps(part), json.dumps(status))
        self.progressed(job_id)
        return Completion(new, done)

    def parts(self, job_id: str) -> dict[str, dict[str, Any]]:
        return {k: json.loads(v) for k, v in self.backend.hgetall(self._key(job_id, "parts")).items()}

    def tasks(self, job_id: str) -> dict[str, dict[str, Any]]:
        return {k: json.loads(v) for k, v in self.backend.hgetall(self._key(job_id, "tasks")).items()}

    def finish(self, job_id: str, state: str, verdict: str | None, report: str | None,
               error: str | None = None, ttl_s: int = 0) -> bool:
        """Mark the job done/error once; return whether this call did it."""
        mapping = {"state": state, "verdict": verdict or "", "report": report or "", "error": error or ""}
        first = self.backend.finish(self._key(job_id), self._stamp(), mapping)
        self.backend.srem(self._active(), job_id)
        if first and ttl_s:
            self.backend.expire([self._key(job_id), self._key(job_id, "tasks"), self._key(job_id, "parts"),
                                 self._key(job_id, "deliveries")], ttl_s)
        return first

    def status(self, job_id: str) -> dict[str, Any]:
        """The job's state, verdict and per-task states (for `lessonqc status`)."""
        fields = self.job(job_id)
        spec = json.loads(fields.get("spec") or "{}")
        keys = ("state", "verdict", "report", "error", "submitted_at", "started_at", "finished_at")
        doc = {"job_id": job_id, "source": spec.get("source"), "profile": spec.get("profile")}
        doc.update({k: fields.get(k) or None for k in keys})
        doc["tasks"] = {"probe": _probe_status(fields), **self.tasks(job_id)}
        return doc


def _probe_status(fields: dict[str, str]) -> dict[str, Any]:
    """The probe step's state, read from the job hash (it has no task entry of its own)."""
    if "probe" in fields:
        return {"state": DONE, "queue": "probe", "seconds": json.loads(fields["probe"])["run"]["seconds"]}
    if fields.get("state") == ERROR:
        return {"state": ERROR, "queue": "probe"}
    return {"state": RUNNING if fields.get("started_at") else QUEUED, "queue": "probe"}


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
