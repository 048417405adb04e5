"""Platform conventions of the HTTP API, on a real socket, on SQLite and PostgreSQL (farm on the StubBroker):
Idempotency-Key (concurrent retries included), ETag/304, cursor paging with Link, DELETE with retention,
token scopes and regions, validation at submit leaving nothing behind, and the webhook routes."""
from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from index import repository, tokens
from index.models import Job
from tests.apikit import CallbackReceiver, client, secrets_of, verified
from tests.farmkit import wait_for
from tests.test_index import REPORT
from tests.test_service import server, svc, worker  # noqa: F401 - the service fixtures
from workers import broker as brokers
from workers import indexing, reportstore


def _problem(answer, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code


def _jobs() -> int:
    with indexing.database().session() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


def _uploads(svc) -> list[Path]:
    folder = svc.media / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def _token(name: str, scopes: list[str], region: str | None = None) -> str:
    with indexing.database().session() as session:
        return tokens.create(session, name, scopes, region)


def _publish(svc, job_id: str) -> Path:
    """A published report for an indexed job (as the report step leaves it)."""
    folder = reportstore.job_dir(svc.reports, job_id)
    folder.mkdir(parents=True)
    doc = {**copy.deepcopy(REPORT), "job_id": job_id}
    (folder / "report.json").write_text(json.dumps(doc), encoding="utf-8")
    repository.upsert_report(indexing.database(), doc, str(folder))
    return folder


# ---- Idempotency-Key ----

def test_a_retry_with_the_same_key_gets_the_same_job_and_another_body_409(svc):
    (svc.media / "a.mp4").write_bytes(b"x")
    key = {"Idempotency-Key": "order-42"}
    first = svc.http.post("/api/v1/jobs", json={"media": "a.mp4"}, headers=key)
    again = svc.http.post("/api/v1/jobs", json={"media": "a.mp4"}, headers=key)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    _problem(svc.http.post("/api/v1/jobs", json={"media": "a.mp4", "region": "江苏省"}, headers=key),
             409, "idempotency.key_reused")
    _problem(svc.http.post("/api/v1/jobs", json={"media": "a.mp4"}, headers={"Idempotency-Key": "a b"}),
             400, "idempotency.bad_key")
    assert _jobs() == 1
    assert svc.http.post("/api/v1/jobs", json={"media": "a.mp4"}).status_code == 201  # no key: a new job


def test_a_failed_first_request_frees_its_key(svc):
    key = {"Idempotency-Key": "k-fail"}
    _problem(svc.http.post("/api/v1/jobs", json={"media": "late.mp4"}, headers=key), 422, "media.not_found")
    (svc.media / "late.mp4").write_bytes(b"x")
    assert svc.http.post("/api/v1/jobs", json={"media": "late.mp4"}, headers=key).status_code == 201


def _concurrently(svc, n: int, send) -> list:
    """`send(http)` from `n` clients at once (each its own connection), their answers."""
    answers: list = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        with client(svc.url, svc.token) as http:
            barrier.wait()
            answers[i] = send(http)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_concurrent_retries_with_one_key_make_one_job(svc):
    (svc.media / "a.mp4").write_bytes(b"x")
    answers = _concurrently(svc, 6, lambda http: http.post("/api/v1/jobs", json={"media": "a.mp4"},
                                                      headers={"Idempotency-Key": "burst"}))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1 and _jobs() == 1
    data = b"\x00video" * 5000
    uploads = _concurrently(svc, 3, lambda http: http.post("/api/v1/jobs", files={"file": ("v.mp4", data, "video/mp4")},
                                                      headers={"Idempotency-Key": "upload-burst"}))
    assert sorted(a.status_code for a in uploads) == [200, 200, 201], [a.text for a in uploads]
    assert len({a.json()["id"] for a in uploads}) == 1 and _jobs() == 2
    assert [p.name for p in _uploads(svc)] == [uploads[0].json()["id"]], "duplicate uploads are not kept"


# ---- ETag ----

def test_job_and_report_answer_304_while_unchanged(svc):
    (svc.media / "a.mp4").write_bytes(b"x")
    job_id = svc.http.post("/api/v1/jobs", json={"media": "a.mp4"}).json()["id"]
    first = svc.http.get(f"/api/v1/jobs/{job_id}")
    etag = first.headers["etag"]
    same = svc.http.get(f"/api/v1/jobs/{job_id}", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    assert svc.http.get(f"/api/v1/jobs/{job_id}", headers={"If-None-Match": '"other"'}).status_code == 200
    _publish(svc, job_id)
    changed = svc.http.get(f"/api/v1/jobs/{job_id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["verdict"] == "fail" and changed.headers["etag"] != etag
    report = svc.http.get(f"/api/v1/jobs/{job_id}/report")
    assert report.status_code == 200 and report.json()["job_id"] == job_id
    again = svc.http.get(f"/api/v1/jobs/{job_id}/report", headers={"If-None-Match": report.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


# ---- cursor paging ----

def test_cursor_pages_follow_the_link_header_and_count_only_when_asked(svc):
    (svc.media / "a.mp4").write_bytes(b"x")
    ids = [svc.http.post("/api/v1/jobs", json={"media": "a.mp4"}).json()["id"] for _ in range(5)]
    seen, url, pages = [], "/api/v1/jobs?limit=2", 0
    while url:
        answer = svc.http.get(url)
        page = answer.json()
        assert page["total"] is None and len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        pages += 1
        link = answer.headers.get("link")
        assert (link is None) == (page["next_cursor"] is None)
        url = link.split(";")[0].strip("<>") if link else None
        assert url is None or 'rel="next"' in link and page["next_cursor"] in url and "limit=2" in url
    assert pages == 3 and sorted(seen) == sorted(ids) and len(seen) == 5
    counted = svc.http.get("/api/v1/jobs", params={"limit": 2, "total": "true"}).json()
    assert counted["total"] == 5
    _problem(svc.http.get("/api/v1/jobs", params={"cursor": "not-a-cursor"}), 422, "request.invalid")


# ---- DELETE ----

def test_delete_cancels_a_queued_job_and_removes_its_upload_and_report(svc):
    job_id = svc.http.post("/api/v1/jobs", files={"file": ("a.mp4", b"\x00v" * 500, "video/mp4")}).json()["id"]
    assert _uploads(svc) and not brokers.store().is_finished(job_id)
    assert svc.http.delete(f"/api/v1/jobs/{job_id}").status_code == 204
    assert brokers.store().is_finished(job_id), "the farm's next steps see the job ended"
    _problem(svc.http.get(f"/api/v1/jobs/{job_id}"), 404, "job.not_found")
    assert _uploads(svc) == [] and _jobs() == 0
    _problem(svc.http.delete(f"/api/v1/jobs/{job_id}"), 404, "job.not_found")
    (svc.media / "kept.mp4").write_bytes(b"x")
    other = svc.http.post("/api/v1/jobs", json={"media": "kept.mp4"}).json()["id"]
    folder = _publish(svc, other)
    assert svc.http.delete(f"/api/v1/jobs/{other}").status_code == 204
    assert not folder.exists() and (svc.media / "kept.mp4").exists(), "a media reference is never removed"


def test_deleting_needs_the_submit_scope_and_the_own_job(svc):
    (svc.media / "a.mp4").write_bytes(b"x")
    job_id = svc.http.post("/api/v1/jobs", json={"media": "a.mp4"}).json()["id"]
    with client(svc.url, _token("reader", ["read"])) as reader:
        _problem(reader.delete(f"/api/v1/jobs/{job_id}"), 403, "auth.scope")
    with client(svc.url, _token("other-platform", ["submit", "read"])) as other:
        _problem(other.delete(f"/api/v1/jobs/{job_id}"), 403, "auth.forbidden")
    with client(svc.url, _token("ops", ["admin"])) as admin:
        assert admin.delete(f"/api/v1/jobs/{job_id}").status_code == 204


# ---- scopes and regions ----

def test_scopes_limit_what_a_token_may_do(svc):
    (svc.media / "a.mp4").write_bytes(b"x")
    with client(svc.url, _token("reader", ["read"])) as reader:
        assert reader.get("/api/v1/jobs").status_code == 200
        _problem(reader.post("/api/v1/jobs", json={"media": "a.mp4"}), 403, "auth.scope")
    with client(svc.url, _token("submitter", ["submit"])) as submitter:
        assert submitter.post("/api/v1/jobs", json={"media": "a.mp4"}).status_code == 201
        _problem(submitter.get("/api/v1/jobs"), 403, "auth.scope")
    assert _jobs() == 1


def test_a_region_token_sees_and_submits_only_its_region(svc):
    (svc.media / "a.mp4").write_bytes(b"x")
    elsewhere = svc.http.post("/api/v1/jobs", json={"media": "a.mp4", "region": "江苏省/南京市"}).json()["id"]
    with client(svc.url, _token("hz", ["submit", "read"], "浙江省/杭州市")) as hz:
        mine = hz.post("/api/v1/jobs", json={"media": "a.mp4"}).json()
        assert hz.get(f"/api/v1/jobs/{mine['id']}").json()["region"] == "浙江省/杭州市"
        below = hz.post("/api/v1/jobs", json={"media": "a.mp4", "region": "浙江省/杭州市/西湖区"})
        assert below.status_code == 201
        _problem(hz.post("/api/v1/jobs", json={"media": "a.mp4", "region": "浙江省/杭州"}), 403, "auth.region")
        assert {j["id"] for j in hz.get("/api/v1/jobs").json()["items"]} == {mine["id"], below.json()["id"]}
        assert hz.get("/api/v1/jobs", params={"region": "江苏省"}).json()["items"] == []
        for path in ("", "/report", "/decisions", "/video"):
            _problem(hz.get(f"/api/v1/jobs/{elsewhere}{path}"), 404, "job.not_found")


# ---- validation at submit ----

@pytest.mark.parametrize("body,code", [({"media": "missing.mp4"}, "media.not_found"),
                                       ({"media": "empty.mp4"}, "media.empty"),
                                       ({"media": "a.mp4", "skip": ["speach"]}, "request.unknown_stage"),
                                       ({"media": "a.mp4", "languages": ["xx"]}, "request.unknown_language")])
def test_a_submission_that_cannot_run_is_422_and_leaves_nothing(svc, body, code):
    (svc.media / "a.mp4").write_bytes(b"x")
    (svc.media / "empty.mp4").write_bytes(b"")
    answer = svc.http.post("/api/v1/jobs", json=body)
    _problem(answer, 422, code)
    assert str(svc.media) not in answer.text
    form = {k: ",".join(v) for k, v in body.items() if isinstance(v, list)}
    data = b"" if code == "media.empty" else b"\x00v" * 100
    if code != "media.not_found":
        _problem(svc.http.post("/api/v1/jobs", files={"file": ("u.mp4", data, "video/mp4")}, data=form), 422, code)
    assert _jobs() == 0 and _uploads(svc) == []


def test_an_unreadable_upload_is_removed_once_its_error_report_is_published(svc, worker):
    answer = svc.http.post("/api/v1/jobs", files={"file": ("notes.mp4", "这不是视频\n".encode() * 50, "video/mp4")})
    job_id = answer.json()["id"]
    wait_for(lambda: svc.http.get(f"/api/v1/jobs/{job_id}").json()["verdict"], 30, what="the report")
    assert svc.http.get(f"/api/v1/jobs/{job_id}/report").json()["verdict"] == "error"
    wait_for(lambda: _uploads(svc) == [], 10, what="the unreadable upload to go")


# ---- webhook routes ----

def test_webhook_secret_rotation_and_redelivery_through_the_api(svc, worker):
    receiver = CallbackReceiver()
    try:
        first = svc.http.get("/api/v1/webhooks/secret").json()
        assert first["subscriber"] == "platform" and len(first["secrets"]) == 1
        rotated = svc.http.post("/api/v1/webhooks/secret/rotate").json()["secrets"]
        assert len(rotated) == 2 and rotated[1] == first["secrets"][0] and secrets_of("platform") == rotated
        answer = svc.http.post("/api/v1/jobs", files={"file": ("notes.mp4", b"not a video" * 50, "video/mp4")},
                               data={"callback_url": receiver.url_for("/status/410")})
        job_id = answer.json()["id"]
        failed = wait_for(lambda: (d := svc.http.get("/api/v1/webhooks/deliveries", params={"job_id": job_id})
                                   .json()["items"]) and d[0]["state"] == "failed" and d[0], 30, what="a failed delivery")
        assert (failed["event_type"], failed["last_status"], failed["attempts"]) == ("report.published", 410, 1)
        detail = svc.http.get(f"/api/v1/webhooks/deliveries/{failed['id']}").json()
        assert [a["status_code"] for a in detail["attempts_log"]] == [410] and json.loads(detail["body"])["job_id"] == job_id
        with client(svc.url, _token("stranger", ["submit", "read"])) as stranger:
            _problem(stranger.get(f"/api/v1/webhooks/deliveries/{failed['id']}"), 404, "delivery.not_found")
            _problem(stranger.post(f"/api/v1/webhooks/deliveries/{failed['id']}/redeliver"), 404, "delivery.not_found")
        beyond = 2**63  # past a database's 64-bit key: a 422, not a server error (found by the OpenAPI fuzz)
        _problem(svc.http.get(f"/api/v1/webhooks/deliveries/{beyond}"), 422, "request.invalid")
        _problem(svc.http.post(f"/api/v1/webhooks/deliveries/{beyond}/redeliver"), 422, "request.invalid")
        again = svc.http.post(f"/api/v1/webhooks/deliveries/{failed['id']}/redeliver")
        assert again.status_code == 202 and again.json()["state"] == "pending"
        wait_for(lambda: len(receiver.received) == 2, 30, what="the redelivery")
        first_try, second_try = receiver.received
        assert first_try.headers["webhook-id"] == second_try.headers["webhook-id"] == failed["event_id"]
        assert verified(second_try, rotated[0]) == verified(second_try, rotated[1])
    finally:
        receiver.close()
