"""Webhooks: Standard Webhooks headers verified with the `standardwebhooks` library, a secret per
subscriber with rotation, the delivery log in the index (SQLite and PostgreSQL), redelivery, and every
failure path (bad URL, DNS, TLS, timeout, refused, 4xx, 5xx) ending in a recorded final state."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import update
from standardwebhooks import Webhook, WebhookVerificationError

from index import repository, webhooks
from index.models import WebhookSecret, utcnow
from tests.apikit import CallbackReceiver, free_port, secrets_of, service_env, verified
from workers import api as farm_api
from workers import broker as brokers
from workers import callbacks, indexing, reportstore, serviceconfig
from workers.serviceconfig import Callbacks

BODY = '{"event":"report.published","job_id":"job-w","verdict":"pass"}'
JOB = "job-w"
SETTINGS = Callbacks(allowed_hosts=("127.0.0.1",), schemes=("https", "http"), timeout_s=0.5, retries=1,
                     min_backoff_s=0.01, max_backoff_s=0.02, secret_overlap_s=3600,
                     redrive_window_s=86400)


def test_headers_verify_with_the_library_and_bind_id_timestamp_and_body():
    first, second = webhooks.new_secret(), webhooks.new_secret()
    now = int(time.time())
    sent = callbacks.headers("msg_1", now, BODY, [first, second])
    assert (sent["webhook-id"], sent["webhook-timestamp"]) == ("msg_1", str(now))
    assert [part.split(",")[0] for part in sent["webhook-signature"].split(" ")] == ["v1", "v1"]
    for secret in (first, second):  # during a rotation either secret verifies
        assert Webhook(secret).verify(BODY, sent) == json.loads(BODY)
    for body, headers, secret in ((BODY + " ", sent, first), (BODY, {**sent, "webhook-id": "msg_2"}, first),
                                  (BODY, {**sent, "webhook-timestamp": str(now + 1)}, first),
                                  (BODY, sent, webhooks.new_secret())):
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, headers)
    stale = callbacks.headers("msg_1", now - 301, BODY, [first])  # a replay after 5 minutes is refused
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(first).verify(BODY, stale)


@pytest.mark.parametrize("url", ["http://127.0.0.1/a\tb", "http://127.0.0.1\t/x", "http://127.0.0.1/x\n",
                                 "http://127.0.0.1/a b", "http://127.0.0.1/\x7f", "http://u:p@127.0.0.1/",
                                 "ftp://127.0.0.1/x", "http://evil.example/x", "http://[::1/x"])
def test_malformed_or_foreign_urls_are_refused_when_checked(url):
    with pytest.raises(callbacks.CallbackRefused):
        callbacks.check_url(url, SETTINGS)
    assert callbacks.check_url("http://127.0.0.1:8080/hook?a=1", SETTINGS)


@pytest.fixture
def receiver():
    got = CallbackReceiver(slow_s=2.0)
    yield got
    got.close()


@pytest.fixture
def index(index_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An isolated index with job JOB (submitted by token `platform`) and a stub farm with one worker."""
    service_env(monkeypatch, tmp_path, index_url,
                callbacks={"allowed_hosts": ["no-such-host.invalid"], "timeout_s": 0.5})
    monkeypatch.setenv(brokers.BROKER_ENV, "stub")
    binding = brokers.install(brokers.make_stub())
    with indexing.database().session() as session:
        repository.add_job(session, repository.NewJob(JOB, "a.mp4", "micro-primary", submitted_by="platform",
                                                      callback_url="http://127.0.0.1/hook"))
    worker = dramatiq.Worker(binding.broker, worker_timeout=50, worker_threads=1)
    worker.start()
    yield binding.broker
    worker.stop()
    brokers.uninstall()
    serviceconfig.load.cache_clear()


def _delivery(url: str, event: str = webhooks.REPORT_PUBLISHED) -> int:
    with indexing.database().session() as session:
        return webhooks.add_delivery(session, event, JOB, "platform", url, BODY).id


def _state(delivery_id: int) -> tuple[str, int, int | None, str | None]:
    with indexing.database().session() as session:
        row = webhooks.get_delivery(session, delivery_id)
        return row.state, row.attempts, row.last_status, row.last_error


def _job_callback() -> tuple[str | None, int]:
    with indexing.database().session() as session:
        job = repository.get_job(session, JOB)
        return job.callback_state, job.callback_attempts


def _run(broker: dramatiq.Broker, delivery_id: int, retries: int = 1) -> None:
    from workers.actors import deliver_webhook

    deliver_webhook.send_with_options(args=(delivery_id,), max_retries=retries, min_backoff=10, max_backoff=20)
    broker.join("callback", timeout=30_000, fail_fast=False)
    broker.join("callback", timeout=30_000, fail_fast=False)  # the gave-up message queued by the last retry


def test_a_delivery_is_signed_with_the_subscribers_secret_and_logged(index, receiver):
    delivery_id = _delivery(receiver.url_for("/hook"))
    _run(index, delivery_id)
    (got,) = receiver.received
    assert verified(got, secrets_of("platform")[0]) == json.loads(BODY)
    assert got.body.decode() == BODY and got.headers["webhook-id"].startswith("msg_")
    assert _state(delivery_id) == ("delivered", 1, 204, None)
    assert _job_callback() == ("delivered", 1)
    with indexing.database().session() as session:
        (attempt,) = webhooks.attempts_of(session, delivery_id)
        assert attempt.status_code == 204 and attempt.error is None


def test_an_attempt_is_stamped_on_the_farm_s_clock_not_the_sending_host_s(index, receiver, monkeypatch):
    """A worker host whose clock runs ahead stamped `webhook-timestamp` with its own time: 5 minutes off, a
    receiver verifying with the library's 5-minute window rejects the event. The stamp is the farm's clock
    (Redis's; here the stub store's, set 10 minutes behind this host's)."""
    behind_s = 600.0
    monkeypatch.setattr(brokers.store().backend, "time", lambda: time.time() - behind_s)
    delivery_id = _delivery(receiver.url_for("/hook"))
    _run(index, delivery_id)
    (got,) = receiver.received
    assert abs(int(got.headers["webhook-timestamp"]) - (time.time() - behind_s)) < 5
    with pytest.raises(WebhookVerificationError):  # this host's receiver: the farm's clock is 10 minutes off it
        verified(got, secrets_of("platform")[0])
    stamped = datetime.fromtimestamp(int(got.headers["webhook-timestamp"]), tz=timezone.utc)
    signed = Webhook(secrets_of("platform")[0]).sign(got.headers["webhook-id"], stamped, got.body.decode())
    assert got.headers["webhook-signature"] == signed  # the signature binds the farm's timestamp


def _unused_url(path: str) -> str:
    """A local URL nothing listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}{path}"


FAILURES = {  # name: (url from the receiver, attempts made with max_retries=1, last status, error mentions)
    "tab in the URL": (lambda r: r.url_for("/a\tb"), 1, None, "whitespace"),
    "HTTP 400": (lambda r: r.url_for("/status/400"), 1, 400, "HTTP 400"),
    "HTTP 410": (lambda r: r.url_for("/status/410"), 1, 410, "HTTP 410"),
    "HTTP 500": (lambda r: r.url_for("/status/500"), 2, 500, "retries exhausted"),
    "HTTP 429": (lambda r: r.url_for("/status/429"), 2, 429, "retries exhausted"),
    "DNS failure": (lambda r: "http://no-such-host.invalid/hook", 2, None, "retries exhausted"),
    "TLS error": (lambda r: r.url_for("/hook").replace("http://", "https://"), 2, None, "retries exhausted"),
    "timeout": (lambda r: r.url_for("/slow"), 2, None, "retries exhausted"),
    "connection refused": (lambda r: _unused_url("/hook"), 2, None, "retries exhausted"),
}


@pytest.mark.parametrize("name", list(FAILURES))
def test_every_failure_path_ends_failed_and_logged(index, receiver, name):
    make_url, attempts, status, error = FAILURES[name]
    delivery_id = _delivery(make_url(receiver))
    _run(index, delivery_id)
    state = _state(delivery_id)
    assert state[:3] == ("failed", attempts, status) and error in state[3]
    assert _job_callback() == ("failed", attempts)
    with indexing.database().session() as session:
        logged = webhooks.attempts_of(session, delivery_id)
        assert len(logged) == attempts and all(a.error for a in logged)


def test_decision_events_end_failed_too(index, receiver):
    delivery_id = _delivery(receiver.url_for("/status/503"), webhooks.REVIEW_DECIDED)
    _run(index, delivery_id)
    assert _state(delivery_id)[:2] == ("failed", 2)
    assert _job_callback() == ("pending", 0), "a decision delivery leaves the report's callback state alone"


def test_redelivery_sends_the_same_event_id_and_body_with_a_fresh_signature(index, receiver):
    delivery_id = _delivery(receiver.url_for("/hook"))
    receiver.fail_first = 1
    _run(index, delivery_id, retries=0)
    assert _state(delivery_id)[:2] == ("failed", 1)
    assert farm_api.redeliver(delivery_id) and not farm_api.redeliver(10_000_000)
    index.join("callback", timeout=30_000, fail_fast=False)
    first, second = receiver.on("/hook")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
    assert verified(second, secrets_of("platform")[0]) == json.loads(BODY)
    assert _state(delivery_id) == ("delivered", 2, 204, None)


@pytest.mark.allow_error_logs
def test_an_event_posted_just_as_the_index_goes_away_is_not_posted_again(index, receiver, monkeypatch):
    """Seen across hosts (PostgreSQL restarted): the POST succeeded, recording it failed, and the retry POSTed
    the event a second time. The retry records the outcome the first attempt left in the farm's Redis."""
    from sqlalchemy.exc import OperationalError

    delivery_id = _delivery(receiver.url_for("/hook"))
    real, tries = webhooks.record_attempt, []

    def index_away_once(session, delivery, attempt):
        tries.append(attempt)
        if len(tries) == 1:
            raise OperationalError("INSERT INTO webhook_attempts", {}, Exception("server closed the connection"))
        real(session, delivery, attempt)
    monkeypatch.setattr(webhooks, "record_attempt", index_away_once)
    _run(index, delivery_id, retries=1)
    assert len(receiver.on("/hook")) == 1 and len(tries) == 2
    assert _state(delivery_id) == ("delivered", 1, 204, None)


def test_rotation_signs_with_both_secrets_until_the_old_one_expires(index, receiver):
    with indexing.database().session() as session:
        old = webhooks.ensure_secret(session, "platform")[0]
        new = webhooks.rotate(session, "platform", timedelta(hours=1))
    assert secrets_of("platform") == [new, old]
    _run(index, _delivery(receiver.url_for("/hook")))
    both = receiver.received[-1]
    assert len(both.headers["webhook-signature"].split(" ")) == 2
    assert verified(both, old) == verified(both, new) == json.loads(BODY)
    with indexing.database().session() as session:  # the overlap is over
        session.execute(update(WebhookSecret).where(WebhookSecret.secret == old)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    _run(index, _delivery(receiver.url_for("/hook")))
    only_new = receiver.received[-1]
    assert verified(only_new, new) and len(only_new.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        verified(only_new, old)


def test_a_published_report_makes_one_delivery_however_often_it_is_published(index, receiver, tmp_path):
    doc = {"schema_version": "1", "job_id": JOB, "source": "a.mp4", "profile": "micro-primary", "verdict": "pass",
           "findings": [], "stages": {}, "created_at": "2026-12-07T01:00:00+00:00"}
    folder = reportstore.job_dir(Path(tmp_path / "reports"), JOB)
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps(doc), encoding="utf-8")
    sent: list[int] = []
    hook = indexing.after_publish(sent.append)
    hook(JOB, folder)
    hook(JOB, folder)
    assert len(set(sent)) == 1
    with indexing.database().session() as session:
        assert [d.event_type for d in webhooks.deliveries(session, "platform", JOB, None, 10, None)] == [
            "report.published"]



def test_the_sweeper_sends_a_decision_event_the_index_missed_once(index):
    """The index away right after a decision committed (the console's hook failed, seen with PostgreSQL
    restarted across hosts): the sweeper records its review.decided event (one event id per decision,
    however many passes or processes) and queues it once."""
    from index import decisions as review_records

    with indexing.database().session() as session:
        decision = review_records.add_decision(session, repository.get_job(session, JOB), "pass", "", "wang", "")
        session.flush()
        decided, decided_at = decision.id, decision.created_at
    sent: list[int] = []
    ledger = indexing.IndexLedger(sent.append)
    assert ledger.redrive_webhooks(decided_at) == 0, "within a sweep interval the console's hook is left to it"
    later = decided_at + timedelta(seconds=60)
    assert ledger.redrive_webhooks(later) == 1 and ledger.redrive_webhooks(later) == 0
    with indexing.database().session() as session:
        row = webhooks.by_event_id(session, webhooks.decision_event_id(decided))
        assert row is not None and row.event_type == webhooks.REVIEW_DECIDED and row.state == webhooks.PENDING
        event = row.id
    assert sent == [event]
    assert indexing.decision_event(JOB, decided) == event, "the console's hook finds the same event, not a new one"
    assert ledger.redrive_webhooks(utcnow() + timedelta(hours=1)) == 0 and sent == [event]
