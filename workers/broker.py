"""The one module that decides the broker, and the job store that goes with it.

`LESSONQC_BROKER=stub` gives dramatiq's StubBroker with an in-memory job store
(tests, local runs); otherwise a RedisBroker on `LESSONQC_REDIS_URL`
(redis://, rediss:// for TLS, passwords in the URL) and job state in the same
Redis. Tests swap brokers with `install`, which moves the declared actors over.

Environment (all optional):
  LESSONQC_REDIS_URL             redis://127.0.0.1:6379/0
  LESSONQC_NAMESPACE             dramatiq   (key prefix of the queues: `dramatiq:speech`, ...)
  LESSONQC_STATE_PREFIX          lessonqc   (key prefix of the job state)
  LESSONQC_HEARTBEAT_TIMEOUT_MS  60000      (a worker silent this long is dead: its messages are requeued)
  LESSONQC_MAINTENANCE_CHANCE    1000       (per million broker calls that run that requeue check)
  LESSONQC_PROMETHEUS            0          (1: dramatiq's Prometheus middleware + farm metrics)
  LESSONQC_WARM_MODELS           1          (0: no speech model warm-up at worker boot)
"""
from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import (AgeLimit, Callbacks, CurrentMessage, Middleware, Pipelines, Retries,
                                 ShutdownNotifications, TimeLimit)

from pipelines.media.limits import server

from . import settings
from .clock import RedisClock
from .connection import (DEFAULT_REDIS_URL, REDIS_URL_ENV, namespace, patiently, redis_client,  # noqa: F401
                         redis_url, socket_options, state_prefix)
from .state import JobStore, MemoryBackend, RedisBackend

BROKER_ENV = "LESSONQC_BROKER"


@dataclass
class Binding:
    """The installed broker and its job store."""

    broker: dramatiq.Broker
    store: JobStore


_binding: Binding | None = None
_home: dramatiq.Broker | None = None  # the broker the declared actors are bound to


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def middleware(warm_models: bool = False, prometheus: bool = False) -> list[Middleware]:
    """Dramatiq's defaults with our retry policy, plus model warm-up and metrics when asked."""
    farm = settings.defaults()
    chain: list[Middleware] = [
        AgeLimit(), TimeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(),
        FarmRetries(max_retries=farm.retries, min_backoff=int(farm.min_backoff_s * 1000),
                    max_backoff=int(farm.max_backoff_s * 1000)),
        CurrentMessage(), ThreadDumps(),
    ]
    if prometheus:
        from dramatiq.middleware.prometheus import Prometheus

        from .metrics import FarmMetrics
        chain += [FarmMetrics(), Prometheus()]  # after-hooks run in reverse: Prometheus boots first
    if warm_models:
        from .warmup import ModelWarmup
        chain.append(ModelWarmup())
    return chain


class ThreadDumps(Middleware):
    """`kill -USR1 <worker process>` writes every thread's stack to the worker's stderr: what a worker
    holding a message without running it is doing (docs/farm-faults.md). Written to the process's own
    fd 2 (the worker's log), not to dramatiq's logging pipe, whose framed messages raw bytes would break."""

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        if sys.__stderr__ is not None:
            faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)


class FarmRetries(Retries):
    """dramatiq's Retries, whose retry (or give-up) message is sent until Redis takes it. A step that failed
    because Redis did not answer sent its retry to the same Redis: dramatiq logged the failure and
    acknowledged the message, so the job waited for the sweeper's deadline (an hour for a short lesson).
    The worker thread now waits for Redis, as dramatiq's own acknowledgement does."""

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        if exception is None or not isinstance(broker, FarmRedisBroker):
            super().after_process_message(broker, message, result=result, exception=exception)
            return
        with broker.patient():
            super().after_process_message(broker, message, result=result, exception=exception)


class FarmRedisBroker(RedisBroker):
    """dramatiq's RedisBroker with fixes for a farm spread over hosts (each found by tests/test_hosts.py):

    - heartbeats on Redis's clock (workers/clock.py): a host whose clock runs ahead does not find every
      other worker dead (requeueing what they run), nor one behind look dead;
    - a delayed message's ETA is on Redis's clock too (a retry sent by a host ahead waited that much longer
      on the others), turned into the consuming host's clock when it is fetched;
    - a retry sent while Redis does not answer is sent again until it does (`patient`, `FarmRetries`);
    - a consumer that starts again after a connection error first puts back the messages this process
      fetched but never handed to a worker thread (a fetch whose reply was lost, the old consumer's
      prefetched ones, the delayed messages its consumer thread held until their ETA and dropped on the
      error): otherwise they stay in a live worker's acknowledgement set, never run;
    - a running consumer does the same every `farm.orphan_check_s`: a fetch sent on a connection the
      worker gave up on (socket timeout) stays in the kernel's send queue and reaches Redis when the
      network is back, which then moves messages into this live worker's acknowledgement set, long after
      the restart's check (seen across hosts: a job held for good, a test or two after the outage);
    - every Redis error of a consumer (a socket timeout too) is the connection error dramatiq recovers
      from, and an acknowledgement that times out is tried again until Redis answers (see `_FarmConsumer`).
    """

    def __init__(self, *, clock_refresh_s: float, orphan_check_s: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.clock = RedisClock(self.client, clock_refresh_s)
        self.orphan_check_s = orphan_check_s
        # queue -> ids this process's consumer thread gave out and that are not yet (n)acked: to worker threads
        # (a queue), or kept in the consumer thread's own delay queue until their ETA (a delay queue)
        self.handed: dict[str, set[str]] = {}
        self._patience = threading.local()

    @contextmanager
    def patient(self) -> Iterator[None]:
        """Within: an enqueue Redis does not answer is tried again until it does (a worker thread sending a
        step's retry; the API's submit is not patient: it answers 503)."""
        self._patience.on = True
        try:
            yield
        finally:
            self._patience.on = False

    def enqueue(self, message: dramatiq.Message, *, delay: int | None = None) -> dramatiq.Message:
        if getattr(self._patience, "on", False):
            return patiently(lambda: self._enqueue(message, delay), f"sending {message}")
        return self._enqueue(message, delay)

    def _enqueue(self, message: dramatiq.Message, delay: int | None) -> dramatiq.Message:
        """dramatiq 2.2's `RedisBroker.enqueue`, the ETA of a delayed message on `self.clock`."""
        queue_name = message.queue_name
        message = message.copy(options={"redis_message_id": str(uuid4())})
        if delay is not None:
            queue_name = dq_name(queue_name)
            message = message.copy(queue_name=queue_name, options={"eta": int(self.clock.time() * 1000) + delay})
        self.emit_before("enqueue", message, delay)
        self.do_enqueue(queue_name, message.options["redis_message_id"], message.encode())
        self.emit_after("enqueue", message, delay)
        return message

    def local_millis(self, redis_millis: int) -> int:
        """A time on Redis's clock (ms) on this host's clock, as dramatiq's worker compares ETAs."""
        return int(redis_millis - (self.clock.time() - time.time()) * 1000)

    @property
    def consumer_class(self) -> type:
        return _FarmConsumer

    def requeue_orphans(self, queue_name: str, when: str) -> None:
        """Put back what this process holds on `queue_name` but never gave out (see the class). Called by the
        queue's consumer thread, the only one that gives out: the handed ids are read before the held ones,
        so a message acknowledged in between is not taken for an orphan."""
        handed = set(self.handed.setdefault(queue_name, set()))
        held = self.client.smembers(f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}")
        orphans = {m.decode() for m in held} - handed
        if orphans:
            self.logger.warning("Putting back %d message(s) of %r held for this worker but never received, %s "
                                "(a fetch lost to a connection error, or run by Redis after it).", len(orphans),
                                queue_name, when)
            self.do_requeue(queue_name, *sorted(orphans))

    def _dispatch(self, command: str) -> Callable[..., Any]:
        """dramatiq 2.2's `_dispatch`, the timestamp (heartbeat, dead-worker cut-off) from `self.clock`."""
        dispatch, keys = self.scripts["dispatch"], [self.namespace]

        def do_dispatch(queue_name: str, *args: Any) -> Any:
            return dispatch(args=[command, int(self.clock.time() * 1000), queue_name, self.broker_id,
                                  self.heartbeat_timeout, self.dead_message_ttl, self._should_do_maintenance(command),
                                  self._max_unpack_size(), *args], keys=keys)
        return do_dispatch


class _FarmConsumer(_RedisConsumer):
    """dramatiq's Redis consumer, robust to a Redis that stops answering (FarmRedisBroker).

    dramatiq counts only `redis.ConnectionError` as a connection error. A socket timeout (a Redis cut
    off by the network) was an "unexpected error": its consumer thread then put back its delayed
    messages on the same dead connection, that raised out of the thread, and the thread died: the
    worker never consumed that queue again, and what it held stayed in its acknowledgement set (its
    other threads keep its heartbeat fresh, so no other worker takes them over). Here every Redis
    error is a `ConnectionClosed`: the thread restarts the consumer. Messages of a delay queue are
    held by the consumer thread itself (until their ETA), never by a worker thread: dramatiq's consumer
    thread starts every consumer with an empty delay queue (a connection error drops it, any other
    restart puts it back), so a new consumer of a delay queue forgets what the last one gave out and
    puts back what this process still holds. While it runs, it does so every `orphan_check_s`, before
    a fetch (nothing of this process is then in flight).
    """

    def __init__(self, broker: FarmRedisBroker, queue_name: str, prefetch: int, timeout: int):
        super().__init__(broker, queue_name, prefetch, timeout)
        self.handed = broker.handed.setdefault(queue_name, set())
        self.delayed = queue_name.endswith(".DQ")
        if self.delayed:
            self.handed.clear()
        _closed_on_error(broker.requeue_orphans, queue_name, "as the consumer starts")
        self.next_check = time.monotonic() + broker.orphan_check_s

    def __next__(self) -> Any:
        if not self.message_cache and time.monotonic() >= self.next_check:
            _closed_on_error(self.broker.requeue_orphans, self.queue_name, "while the consumer runs")
            self.next_check = time.monotonic() + self.broker.orphan_check_s
        message = _closed_on_error(super().__next__)
        if message is None:
            return None
        self.handed.add(message.options["redis_message_id"])
        if self.delayed and isinstance(message.options.get("eta"), int):
            message.options["eta"] = self.broker.local_millis(message.options["eta"])  # this copy only
        return message

    def requeue(self, messages: Any) -> None:
        messages = list(messages)
        _closed_on_error(super().requeue, messages)
        self.handed.difference_update(m.options["redis_message_id"] for m in messages)

    def ack(self, message: Any) -> None:
        self._settle(super().ack, message)

    def nack(self, message: Any) -> None:
        self._settle(super().nack, message)

    def _settle(self, settle: Callable[[Any], None], message: Any) -> None:
        """Ack or nack; a socket timeout counts as the connection error it is, so dramatiq tries again until
        Redis answers (any other error left the message held by this live worker, never run again). The
        message stays handed out until it is settled: a consumer restarted meanwhile must not put it back
        (it would run twice)."""
        try:
            _closed_on_error(settle, message)
        except ConnectionClosed:
            raise
        except Exception:
            self.handed.discard(message.options["redis_message_id"])  # dramatiq gives up on it: put back later
            raise
        self.handed.discard(message.options["redis_message_id"])


def _closed_on_error(call: Callable[..., Any], *args: Any) -> Any:
    """`call(*args)`, any Redis error raised as dramatiq's ConnectionClosed (its consumer thread restarts)."""
    try:
        return call(*args)
    except redis.RedisError as exc:
        raise ConnectionClosed(exc) from None


def make_redis(url: str | None = None, ns: str | None = None) -> RedisBroker:
    """A RedisBroker from the environment (heartbeat/requeue timing included)."""
    pool = redis.ConnectionPool.from_url(url or redis_url(), **socket_options())
    farm = server().farm
    return FarmRedisBroker(clock_refresh_s=farm.clock_refresh_s, orphan_check_s=farm.orphan_check_s,
                           client=redis.Redis(connection_pool=pool), namespace=ns or namespace(),
                           heartbeat_timeout=_env_int("LESSONQC_HEARTBEAT_TIMEOUT_MS", 60000),
                           maintenance_chance=_env_int("LESSONQC_MAINTENANCE_CHANCE", 1000),
                           middleware=middleware(os.environ.get("LESSONQC_WARM_MODELS", "1") == "1",
                                                 os.environ.get("LESSONQC_PROMETHEUS", "0") == "1"))


def make_stub() -> StubBroker:
    """A StubBroker with the same middleware (no warm-up, no metrics)."""
    return StubBroker(middleware=middleware())


def store_for(broker: dramatiq.Broker, url: str | None = None) -> JobStore:
    """Memory state for a StubBroker, Redis state otherwise."""
    if isinstance(broker, StubBroker):
        return JobStore(MemoryBackend(), state_prefix())
    return JobStore(RedisBackend(redis_client(url)), state_prefix())


def choose() -> Binding:
    """The broker the environment asks for, with its job store."""
    broker = make_stub() if os.environ.get(BROKER_ENV) == "stub" else make_redis()
    return Binding(broker, store_for(broker))


def install(broker: dramatiq.Broker, store: JobStore | None = None) -> Binding:
    """Make `broker` the global one and move every declared actor onto it."""
    global _binding, _home
    old, _home = _home, broker
    _binding = Binding(broker, store or store_for(broker))
    dramatiq.set_broker(broker)
    for name in (old.get_declared_actors() if old is not None and old is not broker else ()):
        actor = old.get_actor(name)
        actor.broker = broker
        broker.declare_actor(actor)
    return _binding


def uninstall() -> None:
    """Forget the installed binding (tests); the next `setup` chooses from the environment again."""
    global _binding
    _binding = None


def setup() -> Binding:
    """The installed binding, choosing one from the environment the first time."""
    if _binding is None:
        chosen = choose()
        install(chosen.broker, chosen.store)
    return _binding


def current() -> dramatiq.Broker:
    return setup().broker


def store() -> JobStore:
    return setup().store
