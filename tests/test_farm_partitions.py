"""What the multi-host tests found, pinned on the real Redis of one host: a host whose clock runs ahead
stamps job state, sweeps and heartbeats on Redis's clock; one delivery of a job's callback at a time;
a Redis that stops answering fails a call within seconds; messages a consumer fetched but lost to a
connection error run after all. (tests/test_hosts.py shows them across hosts.)
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime

import dramatiq  # noqa: F401 - imported before `ahead` moves time.time: dramatiq.common binds it at import
import pytest
import redis

from tests.farmkit import require_redis
from workers.clock import RedisClock
from workers.state import JobStore, RedisBackend

pytestmark = pytest.mark.redis
AHEAD_S = 300.0


@pytest.fixture
def client() -> redis.Redis:
    return redis.Redis.from_url(require_redis(), decode_responses=True)


@pytest.fixture
def ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """This host's wall clock AHEAD_S ahead (time.time, as every stamp of the farm and dramatiq reads it)."""
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + AHEAD_S)


@pytest.fixture
def broker(client: redis.Redis, monkeypatch: pytest.MonkeyPatch):
    """A FarmRedisBroker (no model warm-up) in a namespace of its own, `broker.namespace`, whose keys are
    deleted afterwards. A test that also asks for `ahead` names it first, so the broker is made on the moved clock."""
    from workers import broker as brokers

    monkeypatch.setenv("LESSONQC_WARM_MODELS", "0")
    broker = brokers.make_redis(require_redis(), f"lqtest-{uuid.uuid4().hex[:10]}")
    yield broker
    for key in client.scan_iter(f"{broker.namespace}:*"):
        client.delete(key)


def _redis_now(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1e6


def test_the_farm_clock_is_redis_s_when_this_host_s_runs_ahead(client, ahead):
    clock = RedisClock(client, refresh_s=30)
    assert abs(clock.time() - _redis_now(client)) < 1.0
    assert abs(clock.offset + AHEAD_S) < 1.0


def test_job_state_is_stamped_on_redis_s_clock(client, ahead):
    store = JobStore(RedisBackend(client), f"lqtest-{uuid.uuid4().hex[:10]}")
    try:
        store.create("clockjob00000001", {"job_id": "clockjob00000001", "media": "x", "profile": "micro-primary"})
        store.mark_running("clockjob00000001")
        for name in ("submitted_at", "started_at", "progress_at"):
            stamped = datetime.fromisoformat(store.field("clockjob00000001", name)).timestamp()
            assert abs(stamped - _redis_now(client)) < 2.0, name
        assert abs(store.now().timestamp() - _redis_now(client)) < 1.0  # what the sweeper judges staleness by
    finally:
        for key in client.scan_iter(f"{store.prefix}:*"):
            client.delete(key)


def test_worker_heartbeats_are_on_redis_s_clock(client, ahead, broker):
    broker.declare_queue("probe")
    broker.do_fetch("probe", 1)  # a fetch beats the heart
    beat = client.zscore(f"{broker.namespace}:__heartbeats__", broker.broker_id)
    assert abs(beat / 1000 - _redis_now(client)) < 2.0, "a host ahead would find every other worker dead"


def test_a_webhook_being_delivered_by_one_worker_is_not_delivered_by_another_at_the_same_time(client, monkeypatch,
                                                                                             tmp_path):
    import dramatiq

    from tests.farmkit import install, new_farm
    from workers import broker as brokers
    from workers import indexing
    from workers.actors import deliver_webhook

    farm = new_farm(require_redis(), tmp_path)
    install(farm, monkeypatch)
    posted: list[int] = []
    monkeypatch.setattr(indexing, "deliver", lambda delivery_id, _settings, _store: posted.append(delivery_id))
    try:
        with brokers.store().exclusive("webhook:4242", 30) as mine:  # the first worker, mid-POST
            assert mine
            with pytest.raises(dramatiq.Retry, match="another worker"):
                deliver_webhook.fn(4242)
        assert posted == []
        deliver_webhook.fn(4242)  # its turn once the first is done (then: no longer pending, nothing sent)
        assert posted == [4242]
    finally:
        farm.drop_keys()


def test_a_redis_that_stops_answering_fails_a_call_within_the_configured_timeout(tmp_path, monkeypatch):
    """A partition drops packets: without a socket timeout a call (a worker's fetch, the API's submit)
    blocked until TCP gave up, minutes after the network was back (seen across hosts)."""
    import socket

    import yaml

    from workers import broker as brokers
    from workers import connection

    config = tmp_path / "server.yaml"
    config.write_text(yaml.safe_dump({"farm": {"redis_timeout_s": 1, "redis_connect_timeout_s": 1}}), encoding="utf-8")
    monkeypatch.setenv("LESSONQC_SERVER_CONFIG", str(config))
    monkeypatch.setenv("LESSONQC_WARM_MODELS", "0")
    with socket.socket() as silent:  # the kernel completes the handshake; nothing ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        for client in (connection.redis_client(url), brokers.make_redis(url, "ns").client):
            asked = time.monotonic()
            with pytest.raises(redis.TimeoutError):
                client.ping()
            assert time.monotonic() - asked < 5


def test_messages_fetched_but_lost_to_a_connection_error_are_put_back_when_the_consumer_starts_again(client,
                                                                                                    broker):
    """A fetch whose reply never came (socket timeout) leaves its messages in this live worker's ack set:
    seen across hosts as a job stuck for good after Redis came back."""
    import dramatiq

    ns = broker.namespace
    broker.declare_queue("probe")
    for n in range(2):
        broker.enqueue(dramatiq.Message(queue_name="probe", actor_name="probe_job", args=(n,), kwargs={},
                                        options={}))
    first = broker.consume("probe", prefetch=1, timeout=100)
    handed = next(m for m in first if m is not None)  # a worker thread runs this one
    broker.do_fetch("probe", 1)  # fetched, its reply lost: the consumer dies with a connection error
    acks = f"{ns}:__acks__.{broker.broker_id}.probe"
    assert client.scard(acks) == 2 and client.llen(f"{ns}:probe") == 0
    broker.consume("probe", prefetch=1, timeout=100)  # the consumer thread starts again
    assert client.smembers(acks) == {handed.options["redis_message_id"]}, "only the running one stays held"
    assert client.llen(f"{ns}:probe") == 1


def _message(queue: str = "probe"):
    import dramatiq
    return dramatiq.Message(queue_name=queue, actor_name="probe_job", args=(), kwargs={}, options={})


def test_messages_a_late_fetch_moves_into_a_running_consumer_s_hold_are_put_back(client, broker, caplog):
    """A fetch sent on a connection the worker gave up on (Redis cut off) stays in the kernel's send queue and
    reaches Redis when the link is back (shown with namespaces in docs/farm-faults.md): Redis moves messages into
    this live worker's acknowledgement set after its consumer restarted. Seen across hosts as a job held for
    good, even a test after the outage. The running consumer puts them back every `orphan_check_s`."""
    ns = broker.namespace
    broker.orphan_check_s = 0.2
    acks = f"{ns}:__acks__.{broker.broker_id}.probe"
    broker.declare_queue("probe")
    broker.enqueue(_message())
    consumer = broker.consume("probe", prefetch=2, timeout=100)
    running = next(m for m in consumer if m is not None)  # a worker thread runs this one
    late = broker.enqueue(_message())
    broker.do_fetch("probe", 1)  # the stale connection's fetch, run by Redis now; its reply goes nowhere
    assert client.scard(acks) == 2 and client.llen(f"{ns}:probe") == 0
    deadline = time.monotonic() + 3
    received = None
    while received is None and time.monotonic() < deadline:
        received = next(consumer)
    assert received is not None, "the message the late fetch took stayed held by this live worker"
    assert received.message_id == late.message_id
    assert "Putting back 1 message(s) of 'probe' held for this worker but never received, while the consumer " \
           "runs" in caplog.text
    held = client.smembers(acks)
    assert held == {running.options["redis_message_id"], received.options["redis_message_id"]}
    time.sleep(0.3)
    assert next(consumer) is None and client.llen(f"{ns}:probe") == 0, "a message given out was put back"


def test_the_running_check_keeps_delayed_messages_a_consumer_holds_until_their_eta(client, broker):
    """A delay queue's messages are held by the consumer thread itself: the periodic check must not put them
    back (they would run twice); a new consumer (its thread's delay queue empty) does."""
    ns = broker.namespace
    broker.orphan_check_s = 0.2
    delayed = f"{ns}:probe.DQ"
    broker.declare_queue("probe")
    broker.enqueue(_message(), delay=60_000)
    consumer = broker.consume("probe.DQ", prefetch=2, timeout=100)
    assert next(m for m in consumer if m is not None).options["eta"] > 0
    time.sleep(0.3)
    assert next(consumer) is None  # the check ran
    assert client.llen(delayed) == 0 and client.scard(f"{ns}:__acks__.{broker.broker_id}.probe.DQ") == 1
    broker.consume("probe.DQ", prefetch=2, timeout=100)
    assert client.llen(delayed) == 1


def test_an_acknowledgement_that_times_out_is_tried_again_not_dropped(client, monkeypatch, broker):
    """dramatiq retries an ack only on a connection error; a socket timeout (Redis cut off) made it give up,
    leaving the message held by a live worker for good (seen across hosts)."""
    import dramatiq
    from dramatiq.errors import ConnectionClosed

    ns = broker.namespace
    broker.declare_queue("probe")
    broker.enqueue(dramatiq.Message(queue_name="probe", actor_name="probe_job", args=(), kwargs={}, options={}))
    consumer = broker.consume("probe", prefetch=1, timeout=100)
    message = next(m for m in consumer if m is not None)
    real = broker.do_ack

    def cut_off(*_args: object) -> None:
        raise redis.TimeoutError("timed out")
    monkeypatch.setattr(broker, "do_ack", cut_off)
    with pytest.raises(ConnectionClosed):  # dramatiq's post-processing sleeps and acks again on this
        consumer.ack(message)
    broker.consume("probe", prefetch=1, timeout=100)  # the consumer restarts meanwhile: not put back (no rerun)
    assert client.llen(f"{ns}:probe") == 0
    monkeypatch.setattr(broker, "do_ack", real)
    consumer.ack(message)
    assert client.scard(f"{ns}:__acks__.{broker.broker_id}.probe") == 0


@pytest.mark.allow_error_logs
def test_a_consumer_thread_outlives_a_redis_that_times_out_and_keeps_the_delayed_messages_it_held(client,
                                                                                                  monkeypatch,
                                                                                                  broker):
    """Seen across hosts after Redis was unreachable: a socket timeout on a fetch was an "unexpected error"
    to dramatiq, the consumer thread then put back its delayed messages on the dead connection, that raised
    out of the thread and it died (its queue never consumed by that worker again); and a delayed message a
    consumer thread dropped on a connection error stayed in this live worker's acknowledgement set."""
    from queue import PriorityQueue

    import dramatiq
    from dramatiq import worker as dramatiq_worker

    from tests.farmkit import wait_for

    monkeypatch.setattr(dramatiq_worker, "CONSUMER_RESTART_DELAY_SECS", 0.1)
    ns = broker.namespace
    away = False
    dispatch, smembers = broker.scripts["dispatch"], broker.client.smembers

    def cut_off(call):
        def maybe(*args, **kwargs):
            if away:
                raise redis.TimeoutError("Timeout reading from socket")
            return call(*args, **kwargs)
        return maybe
    broker.scripts["dispatch"] = cut_off(dispatch)
    monkeypatch.setattr(broker.client, "smembers", cut_off(smembers))
    thread = dramatiq_worker.ConsumerThread(broker=broker, queue_name="probe.DQ", prefetch=10,
                                            work_queue=PriorityQueue(), worker_timeout=100)
    acks, delayed = f"{ns}:__acks__.{broker.broker_id}.probe.DQ", f"{ns}:probe.DQ"
    try:
        broker.declare_queue("probe")
        broker.enqueue(dramatiq.Message(queue_name="probe", actor_name="probe_job", args=(), kwargs={}, options={}),
                       delay=60_000)  # a retry waiting for its ETA
        thread.start()
        wait_for(lambda: thread.delay_queue.qsize() == 1, 10, what="the consumer thread to hold the delayed message")
        away = True
        time.sleep(1.0)  # fetches time out; the thread restarts its consumer, which cannot reach Redis
        assert thread.is_alive(), "the consumer thread died of a socket timeout"
        away = False
        wait_for(lambda: thread.delay_queue.qsize() == 1 and client.llen(delayed) == 0, 10,
                 what="the delayed message held again after Redis answers")
        assert thread.is_alive() and client.scard(acks) == 1
    finally:
        away = False
        thread.stop()
        thread.join(5)


def _lost_redis(broker, monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """A switch that makes every dispatch of `broker` time out (a Redis cut off by the network)."""
    switch = {"away": False}
    dispatch = broker.scripts["dispatch"]

    def maybe(*args, **kwargs):
        if switch["away"]:
            raise redis.TimeoutError("Timeout reading from socket")
        return dispatch(*args, **kwargs)
    monkeypatch.setitem(broker.scripts, "dispatch", maybe)
    return switch


@pytest.mark.allow_error_logs
def test_a_retry_sent_while_redis_does_not_answer_is_sent_once_it_does(client, monkeypatch, broker):
    """Seen across hosts: a step that failed because Redis was unreachable sent its retry to that Redis;
    dramatiq logged it and acknowledged the message, and the job waited for the sweeper's deadline."""
    import threading

    import dramatiq
    from dramatiq.broker import MessageProxy

    from workers import broker as brokers
    from workers import connection

    monkeypatch.setattr(connection, "PATIENT_PAUSE_S", 0.1)
    step = dramatiq.actor(lambda: None, broker=broker, actor_name="lqtest_step", queue_name="probe", max_retries=3)
    retries = next(m for m in broker.middleware if isinstance(m, brokers.FarmRetries))
    switch = _lost_redis(broker, monkeypatch)
    switch["away"] = True
    with pytest.raises(redis.TimeoutError):  # not patient outside a retry: the API answers 503 at once
        step.send()
    failed = MessageProxy(step.message())
    sending = threading.Thread(target=retries.after_process_message, args=(broker, failed),
                               kwargs={"exception": redis.TimeoutError("Redis away")})
    sending.start()
    time.sleep(0.5)
    assert sending.is_alive(), "the retry was given up while Redis did not answer"
    switch["away"] = False
    sending.join(5)
    assert not sending.is_alive() and client.llen(f"{broker.namespace}:probe.DQ") == 1


def test_a_delayed_message_s_eta_is_on_redis_s_clock_and_read_on_the_consumer_s(client, ahead, broker):
    """A retry sent by a host 5 minutes ahead carried an ETA on that host's clock: the others held it 5 minutes
    longer. Its ETA is on Redis's clock; the consumer compares it on its own."""
    import dramatiq

    broker.declare_queue("probe")
    sent = broker.enqueue(dramatiq.Message(queue_name="probe", actor_name="probe_job", args=(), kwargs={},
                                           options={}), delay=60_000)
    assert abs(sent.options["eta"] / 1000 - (_redis_now(client) + 60)) < 2.0
    consumer = broker.consume("probe.DQ", prefetch=1, timeout=100)
    fetched = next(m for m in consumer if m is not None)
    assert abs(fetched.options["eta"] / 1000 - (time.time() + 60)) < 2.0  # this host's clock (ahead)
