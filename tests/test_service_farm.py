"""End to end: upload through the HTTP API -> farm workers on the real Redis -> a signed callback received
by a local server (127.0.0.1) -> GET report equals the report in the store; the index holds its findings once.

PostgreSQL index, real `lessonqc worker` processes; skips locally without Redis or PostgreSQL, fails in CI.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from standardwebhooks import WebhookVerificationError

from index.models import Finding
from testmedia import cached, clips
from tests.apikit import CallbackReceiver, Received, ServerThread, client, make_token, secrets_of, service_env, verified
from tests.dbkit import truncate
from tests.farmkit import Worker, install, new_farm, require_redis, wait_for
from workers import broker as brokers
from workers import indexing, reportstore, serviceconfig
from cli.main import main as cli_main

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
LESSON = {"teacher": "李老师", "school": "滨江实验小学", "subject": "科学", "grade": "四年级", "title": "影子的秘密",
          "category": "学科课程"}


@pytest.fixture(scope="module")
def black_lesson(media_cache: Path) -> Path:
    return cached(media_cache, "farm-black.mp4", clips.clip, 8.0, black_between=(2.0, 5.0), speech=False)


@pytest.fixture(scope="module")
def stack(postgres_url: str, tmp_path_factory: pytest.TempPathFactory):
    """Farm (Redis namespace + one worker process), the API on a socket, a callback receiver (module-wide)."""
    truncate(postgres_url)
    root = tmp_path_factory.mktemp("service-farm")
    with pytest.MonkeyPatch.context() as monkeypatch:
        farm = new_farm(require_redis(), root)
        env = service_env(monkeypatch, root, postgres_url,
                          callbacks={"min_backoff_s": 0.2, "max_backoff_s": 1, "retries": 4})
        farm.extra = {k: v for k, v in env.items() if k not in ("LESSONQC_MEDIA_ROOTS", "LESSONQC_REPORT_DIR")}
        farm.extra["LESSONQC_WARM_MODELS"] = "0"
        install(farm, monkeypatch)
        worker = Worker(farm, root / "worker.log", "--processes", "1", "--threads", "2")
        server = ServerThread().start()
        receiver = CallbackReceiver(fail_first=1)
        try:
            yield farm, server, receiver
        finally:
            receiver.close()
            server.stop()
            worker.stop()
            farm.drop_keys()
            brokers.uninstall()
            serviceconfig.load.cache_clear()


def test_upload_to_signed_callback_to_report(stack, black_lesson: Path):
    farm, server, receiver = stack
    with client(server.url, make_token()) as http:
        answer = http.post("/api/v1/jobs", files={"file": ("影子.mp4", black_lesson.read_bytes(), "video/mp4")},
                           data={"skip": "speech,onscreen", "callback_url": receiver.url, "region": "浙江省/杭州市/滨江区",
                                 **LESSON})
        assert answer.status_code == 201, answer.text
        job_id = answer.json()["id"]
        wait_for(lambda: len(receiver.on("/hook")) >= 2, 120, poll_s=0.2, what="the retried callback")
        hook = receiver.on("/hook")
        secret = secrets_of("platform")[0]  # the submitting token's own secret
        for delivery in hook:  # the failed first attempt and the retry: the same event id and body, each signed
            verified(delivery, secret)
            assert delivery.headers["content-type"] == "application/json"
        with pytest.raises(WebhookVerificationError):
            verified(Received(hook[0].path, hook[0].body + b" ", hook[0].headers), secret)
        assert hook[0].body == hook[1].body and hook[0].headers["webhook-id"] == hook[1].headers["webhook-id"]
        summary = json.loads(hook[1].body)
        assert (summary["job_id"], summary["verdict"], summary["event"]) == (job_id, "fail", "report.published")
        assert "signal.black" in summary["codes"] and summary["report_url"].endswith(f"/api/v1/jobs/{job_id}/report")

        stored = reportstore.read(farm.reports, job_id)
        assert http.get(f"/api/v1/jobs/{job_id}/report").json() == stored
        job = wait_for(lambda: (j := http.get(f"/api/v1/jobs/{job_id}").json())["callback_state"] == "delivered" and j,
                       20, what="the callback state")
        assert (job["status"], job["verdict"], job["lesson"], job["region"]) == ("done", "fail", {**LESSON, "node": None}, "浙江省/杭州市/滨江区")
        assert job["codes"] == list(dict.fromkeys(f["code"] for f in stored["findings"]))
        assert job["stages"]["signal"]["state"] == "ok" and job["stages"]["speech"]["state"] == "skipped"
        listed = http.get("/api/v1/jobs", params={"code": "signal.black", "region": "浙江省/杭州市"}).json()
        assert [j["id"] for j in listed["items"]] == [job_id]

    def findings() -> int:
        with indexing.database().session() as session:
            return session.scalar(select(func.count()).select_from(Finding).where(Finding.job_id == job_id))

    assert findings() == len(stored["findings"])
    assert cli_main(["reindex"]) == 0 and findings() == len(stored["findings"])  # a re-run adds no rows


def test_a_callback_that_never_succeeds_is_marked_failed_and_the_report_stays(stack, black_lesson: Path):
    farm, server, receiver = stack
    with client(server.url, make_token()) as http:
        answer = http.post("/api/v1/jobs", files={"file": ("down.mp4", black_lesson.read_bytes(), "video/mp4")},
                           data={"skip": "speech,onscreen", "callback_url": receiver.url_for("/down")})
        job_id = answer.json()["id"]
        job = wait_for(lambda: (j := http.get(f"/api/v1/jobs/{job_id}").json())["callback_state"] == "failed" and j,
                       120, poll_s=0.3, what="the callback to be given up")
        assert len(receiver.on("/down")) == 5  # the first attempt and service.callbacks.retries (4) more
        assert job["verdict"] == "fail" and http.get(f"/api/v1/jobs/{job_id}/report").json() == reportstore.read(
            farm.reports, job_id)
