"""The HTTP API on a real socket (uvicorn + httpx), on SQLite and PostgreSQL, with the farm on the StubBroker.

Auth, job creation by reference and by upload (streamed, capped, checksummed), filters, the
job's outputs (report, html, artifacts, video with ranges), error codes, and `lessonqc reindex`.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import dramatiq
import httpx
import pytest
from sqlalchemy import func, select

from index import tokens
from index.models import Finding, Job
from testmedia import cached, clips
from tests.apikit import ServerThread, client, free_port, make_token, service_env
from tests.farmkit import wait_for
from workers import broker as brokers
from workers import indexing, reportstore, serviceconfig
from cli.main import main as cli_main

CAP = 4_000_000


@pytest.fixture(scope="module")
def server():
    thread = ServerThread().start()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def small_clip(media_cache: Path) -> Path:
    return cached(media_cache, "api-black.mp4", clips.clip, 4.0, size="320x180", black_between=(1.0, 3.0), speech=False)


@pytest.fixture
def svc(index_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: ServerThread):
    """An isolated service on one index backend; the farm is a StubBroker (a Worker only when a test starts one)."""
    env = service_env(monkeypatch, tmp_path, index_url, uploads={"max_bytes": CAP})
    monkeypatch.setenv(brokers.BROKER_ENV, "stub")
    binding = brokers.install(brokers.make_stub())
    token = make_token()
    with client(server.url, token) as http:
        yield SimpleNamespace(http=http, url=server.url, token=token, broker=binding.broker,
                              media=Path(env["LESSONQC_MEDIA_ROOTS"]), reports=Path(env["LESSONQC_REPORT_DIR"]))
    brokers.uninstall()
    serviceconfig.load.cache_clear()


@pytest.fixture
def worker(svc):
    w = dramatiq.Worker(svc.broker, worker_timeout=50, worker_threads=2)
    w.start()
    yield w
    w.stop()


def _error(answer, status: int, code: str) -> None:
    """An RFC 9457 problem with its stable code."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert (body["code"], body["status"]) == (code, status) and body["detail"] and body["title"]


# ---- auth ----

def test_missing_unknown_and_revoked_tokens_get_401(svc):
    with client(svc.url, None) as anonymous:
        _error(anonymous.get("/api/v1/jobs"), 401, "auth.required")
        assert anonymous.get("/healthz").status_code == 200  # health and the document stay open
        assert anonymous.get("/openapi.json").json()["info"]["title"] == "LessonQC"
    with client(svc.url, "lqc_not-a-token") as stranger:
        _error(stranger.get("/api/v1/jobs"), 401, "auth.invalid_token")
    assert svc.http.get("/api/v1/jobs").status_code == 200
    assert cli_main(["tokens", "revoke", "platform"]) == 0
    _error(svc.http.get("/api/v1/jobs"), 401, "auth.invalid_token")
    _error(svc.http.post("/api/v1/jobs", json={"media": "x.mp4"}), 401, "auth.invalid_token")


def test_tokens_cli_prints_a_token_once_and_lists_names_only(svc, capsys):
    assert cli_main(["tokens", "create", "province-zj"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith(tokens.PREFIX)
    with client(svc.url, token) as http:
        assert http.get("/api/v1/jobs").status_code == 200
    assert cli_main(["tokens", "list"]) == 0
    listed = capsys.readouterr().out
    assert "province-zj" in listed and token not in listed
    (line,) = [line for line in listed.splitlines() if line.startswith("province-zj")]
    assert "\tlive\tlast used " in line  # the request above was recorded


# ---- creating jobs ----

LESSON = {"teacher": "王老师", "school": "西湖小学", "subject": "数学", "grade": "三年级", "title": "分数的初步认识",
          "category": "学科课程"}


def test_job_by_media_reference_is_indexed_with_its_lesson_metadata(svc):
    (svc.media / "2026").mkdir()
    (svc.media / "2026" / "lesson.mp4").write_bytes(b"not decoded in this test")
    answer = svc.http.post("/api/v1/jobs", json={"media": "2026/lesson.mp4", "profile": "micro-primary",
                                                 "region": "浙江省/杭州市/西湖区", "lesson": LESSON})
    assert answer.status_code == 201, answer.text
    job_id = answer.json()["id"]
    assert answer.headers["location"] == f"/api/v1/jobs/{job_id}"
    job = svc.http.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["status"], job["verdict"], job["region"], job["level"]) == ("queued", None, "浙江省/杭州市/西湖区", "school")
    assert job["lesson"] == {**LESSON, "node": None} and job["source"] == "2026/lesson.mp4"
    assert job["stages"]["probe"]["state"] == "queued"
    listed = svc.http.get("/api/v1/jobs", params={"region": "浙江省/杭州市", "total": "true"}).json()
    assert [j["id"] for j in listed["items"]] == [job_id] and listed["total"] == 1
    assert svc.http.get("/api/v1/jobs", params={"region": "江苏省", "total": "true"}).json()["total"] == 0
    _error(svc.http.get(f"/api/v1/jobs/{job_id}/report"), 409, "report.not_ready")


NODE = {"stage": "小学", "subject": "数学", "edition": "人教版", "volume": "三年级上册", "unit": "第八单元 分数的初步认识",
        "lesson": "分数的初步认识"}


def test_the_catalogue_node_goes_in_and_comes_back_by_json_and_by_upload(svc):
    """The node travels with the job: the index, GET one, the list, and the farm's job spec (the report's
    `lesson`); an upload gives it as one 学段/学科/... field."""
    (svc.media / "node.mp4").write_bytes(b"not decoded in this test")
    answer = svc.http.post("/api/v1/jobs", json={"media": "node.mp4", "lesson": {**LESSON, "node": NODE}})
    assert answer.status_code == 201, answer.text
    job_id = answer.json()["id"]
    assert svc.http.get(f"/api/v1/jobs/{job_id}").json()["lesson"] == {**LESSON, "node": NODE}
    assert svc.http.get("/api/v1/jobs").json()["items"][0]["lesson"]["node"] == NODE
    with indexing.database().session() as session:
        job = session.get(Job, job_id)
        assert job.spec["lesson"] == {**LESSON, "node": NODE}
        assert job.lesson.node_key == "小学/数学/人教版/三年级上册/第八单元分数的初步认识/分数的初步认识"
    upload = svc.http.post("/api/v1/jobs", files={"file": ("节点.mp4", b"x" * 100, "video/mp4")},
                           data={"teacher": "王老师", "node": "/".join(NODE.values())})
    assert upload.status_code == 201, upload.text
    assert svc.http.get(f"/api/v1/jobs/{upload.json()['id']}").json()["lesson"]["node"] == NODE


@pytest.mark.parametrize("lesson, says", [
    ({"teacher": "王\x00老师"}, "lesson.teacher"), ({"title": "课" * 501}, "lesson.title"),
    ({"node": {**NODE, "unit": ""}}, "lesson.node.unit"), ({"node": {**NODE, "lesson": "分数\u202e"}}, "lesson.node.lesson"),
    ({"node": {k: v for k, v in NODE.items() if k != "edition"}}, "lesson.node.edition")])
def test_bad_lesson_metadata_is_a_422_problem_naming_the_field(svc, lesson, says):
    (svc.media / "a.mp4").write_bytes(b"x")
    answer = svc.http.post("/api/v1/jobs", json={"media": "a.mp4", "lesson": lesson})
    _error(answer, 422, "request.invalid")
    assert says in answer.json()["detail"], answer.json()["detail"]
    bad_upload = svc.http.post("/api/v1/jobs", files={"file": ("a.mp4", b"x", "video/mp4")}, data={"node": "小学/数学"})
    _error(bad_upload, 422, "request.invalid")
    assert "six parts" in bad_upload.json()["detail"]
    with indexing.database().session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


@pytest.mark.parametrize("media", ["/etc/passwd", "../outside.mp4", "/tmp"])
def test_a_path_outside_the_media_roots_is_422_with_its_code(svc, media: str):
    _error(svc.http.post("/api/v1/jobs", json={"media": media}), 422, "media.path_refused")
    with indexing.database().session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_bad_profile_callback_host_and_body_are_422_or_415(svc):
    (svc.media / "a.mp4").write_bytes(b"x")
    _error(svc.http.post("/api/v1/jobs", json={"media": "a.mp4", "profile": "no-such"}), 422, "profile.invalid")
    _error(svc.http.post("/api/v1/jobs", json={"media": "a.mp4", "callback_url": "https://evil.example/x"}),
           422, "callback.refused")
    _error(svc.http.post("/api/v1/jobs", json={"media": "a.mp4", "colour": "red"}), 422, "request.invalid")
    _error(svc.http.post("/api/v1/jobs", content=b"{", headers={"content-type": "application/json"}),
           422, "request.invalid")
    _error(svc.http.post("/api/v1/jobs", content=b"media=a.mp4", headers={"content-type": "text/plain"}),
           415, "request.unsupported_media_type")


def test_upload_is_stored_under_the_media_root_with_its_sha256(svc):
    data = b"\x00\x01fake video bytes" * 1000
    answer = svc.http.post("/api/v1/jobs", files={"file": ("我的 课.mp4", data, "video/mp4")},
                           data={"profile": "micro-primary", "region": "浙江省/宁波市", **LESSON})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["media_sha256"] == hashlib.sha256(data).hexdigest() and body["media_size"] == len(data)
    stored = list((svc.media / "uploads" / body["id"]).iterdir())
    assert [p.name for p in stored] == ["我的_课.mp4"] and stored[0].read_bytes() == data
    job = svc.http.get(f"/api/v1/jobs/{body['id']}").json()
    assert job["lesson"]["title"] == LESSON["title"] and job["source"] == "我的 课.mp4"


def _nothing_uploaded(svc) -> None:
    uploads = svc.media / "uploads"
    assert not uploads.exists() or not any(uploads.rglob("*")), list(uploads.rglob("*"))
    with indexing.database().session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_upload_over_the_cap_is_413_and_leaves_nothing_on_disk(svc):
    big = b"v" * (CAP + 1)
    _error(svc.http.post("/api/v1/jobs", files={"file": ("big.mp4", big, "video/mp4")}), 413, "upload.too_large")
    _nothing_uploaded(svc)

    def chunked():  # no Content-Length: the cap is enforced while streaming
        boundary = b"XyZ"
        yield b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n\r\n"
        for _ in range(CAP // 10_000 + 1):
            yield b"v" * 10_000
        yield b"\r\n--" + boundary + b"--\r\n"

    answer = svc.http.post("/api/v1/jobs", content=chunked(), headers={"content-type": "multipart/form-data; boundary=XyZ"})
    _error(answer, 413, "upload.too_large")
    _nothing_uploaded(svc)


def test_malformed_uploads_are_400_or_422_and_leave_nothing(svc):
    _error(svc.http.post("/api/v1/jobs", data={"profile": "lab"}, files={"other": ("a.txt", b"x")}),
           400, "upload.malformed")
    _error(svc.http.post("/api/v1/jobs", files={"file": ("a.mp4", b"x")}, data={"profile": "nope"}),
           422, "profile.invalid")
    _error(svc.http.post("/api/v1/jobs", files={"file": ("a.mp4", b"x")}, data={"colour": "red"}),
           422, "request.invalid")
    _nothing_uploaded(svc)


# ---- a processed job: report, html, artifacts, video ----

def test_non_video_upload_ends_with_verdict_error_and_its_report_is_served(svc, worker):
    answer = svc.http.post("/api/v1/jobs", files={"file": ("notes.mp4", "这不是视频\n".encode() * 50, "video/mp4")})
    job_id = answer.json()["id"]
    job = wait_for(lambda: (j := svc.http.get(f"/api/v1/jobs/{job_id}").json())["verdict"] and j, 30, what="the report")
    assert (job["status"], job["verdict"], job["codes"]) == ("error", "error", ["input.unreadable"])
    report = svc.http.get(f"/api/v1/jobs/{job_id}/report")
    assert report.json() == reportstore.read(svc.reports, job_id)
    html = svc.http.get(f"/api/v1/jobs/{job_id}/report.html")
    assert html.headers["content-type"].startswith("text/html") and "input.unreadable" in html.text
    assert svc.http.get("/api/v1/jobs", params={"verdict": "error", "code": "input.unreadable", "total": "true"}
                        ).json()["total"] == 1
    assert svc.http.get("/api/v1/jobs", params={"verdict": "pass", "total": "true"}).json()["total"] == 0


def test_video_stream_honours_ranges_and_artifacts_are_confined(svc, worker, small_clip: Path):
    data = small_clip.read_bytes()
    job_id = svc.http.post("/api/v1/jobs", files={"file": ("black.mp4", data, "video/mp4")},
                           data={"skip": "speech,onscreen"}).json()["id"]
    part = svc.http.get(f"/api/v1/jobs/{job_id}/video", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}" and part.headers["accept-ranges"] == "bytes"
    whole = svc.http.get(f"/api/v1/jobs/{job_id}/video")
    assert whole.status_code == 200 and whole.content == data and whole.headers["content-type"] == "video/mp4"
    beyond = svc.http.get(f"/api/v1/jobs/{job_id}/video", headers={"Range": f"bytes={len(data) + 10}-"})
    _error(beyond, 416, "range.not_satisfiable")
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"
    _error(svc.http.get(f"/api/v1/jobs/{job_id}/video", headers={"Range": "pages=1-2"}), 400, "range.malformed")
    head = svc.http.head(f"/api/v1/jobs/{job_id}/video")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(data))
    job = wait_for(lambda: (j := svc.http.get(f"/api/v1/jobs/{job_id}").json())["verdict"] and j, 60, what="the report")
    assert "signal.black" in job["codes"] and job["stages"]["speech"]["state"] == "skipped"
    files = svc.http.get(f"/api/v1/jobs/{job_id}/artifacts").json()["files"]
    thumbs = [f for f in files if f.startswith("thumbs/")]
    assert "report.html" in files and thumbs
    assert svc.http.get(f"/api/v1/jobs/{job_id}/artifacts/{thumbs[0]}").content[:3] == b"\xff\xd8\xff"
    for sneaky in ("../../index.sqlite3", "..%2F..%2Findex.sqlite3", "/etc/passwd"):
        assert svc.http.get(f"/api/v1/jobs/{job_id}/artifacts/{sneaky}").status_code == 404


def test_unknown_job_is_404_everywhere(svc):
    for path in ("", "/report", "/report.html", "/artifacts", "/video"):
        _error(svc.http.get(f"/api/v1/jobs/nope{path}"), 404, "job.not_found")


def test_filters_validate_and_page(svc):
    _error(svc.http.get("/api/v1/jobs", params={"verdict": "maybe"}), 422, "request.invalid")
    _error(svc.http.get("/api/v1/jobs", params={"limit": 0}), 422, "request.invalid")
    (svc.media / "a.mp4").write_bytes(b"x")
    ids = [svc.http.post("/api/v1/jobs", json={"media": "a.mp4"}).json()["id"] for _ in range(3)]
    page = svc.http.get("/api/v1/jobs", params={"limit": 2, "total": "true"}).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["next_cursor"]
    rest = svc.http.get("/api/v1/jobs", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert rest["next_cursor"] is None and {i["id"] for i in page["items"] + rest["items"]} == set(ids)
    window = {"submitted_after": "2000-01-01T00:00:00Z", "submitted_before": "2001-01-01T00:00:00Z", "total": "true"}
    assert svc.http.get("/api/v1/jobs", params=window).json()["total"] == 0


def test_reindex_rebuilds_the_index_from_the_report_store(svc, worker):
    job_id = svc.http.post("/api/v1/jobs", files={"file": ("bad.mp4", b"garbage" * 100)}).json()["id"]
    wait_for(lambda: svc.http.get(f"/api/v1/jobs/{job_id}").json()["verdict"], 30, what="the report")
    database = indexing.database()

    def counts() -> tuple[int, int]:
        with database.session() as session:
            return (session.scalar(select(func.count()).select_from(Job)),
                    session.scalar(select(func.count()).select_from(Finding)))

    before = counts()
    with database.session() as session:
        session.delete(session.get(Job, job_id))
    assert counts() == (before[0] - 1, before[1] - 1)
    assert cli_main(["reindex"]) == 0 and cli_main(["reindex"]) == 0
    assert counts() == before
    assert svc.http.get(f"/api/v1/jobs/{job_id}").json()["codes"] == ["input.unreadable"]


def test_healthz_names_the_index_backend(svc):
    health = svc.http.get("/healthz").json()
    assert health["status"] == "ok" and health["database"] in ("sqlite", "postgresql")
    assert health["database"] == indexing.database().dialect and health["redis"] in ("ok", "unavailable")


def test_lessonqc_serve_migrates_then_answers(tmp_path: Path):
    """The console script path: `lessonqc serve` on a fresh SQLite index, /healthz and /openapi.json answer."""
    port = free_port()
    env = {**os.environ, "LESSONQC_REPORT_DIR": str(tmp_path / "reports"), "LESSONQC_MEDIA_ROOTS": str(tmp_path),
           "LESSONQC_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def healthy():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read().decode()
                return None

        assert wait_for(healthy, 60, poll_s=0.2, what="lessonqc serve")["database"] == "sqlite"
        assert "/api/v1/jobs" in httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["paths"]
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/jobs").json()["code"] == "auth.required"
    finally:
        proc.terminate()
        proc.wait(20)
    assert (tmp_path / "fresh.sqlite3").is_file()


def test_marking_a_job_running_is_best_effort_when_the_index_is_down(monkeypatch, caplog, tmp_path: Path):
    monkeypatch.setenv("LESSONQC_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("LESSONQC_REPORT_DIR", str(tmp_path))
    indexing.mark_running("job-x")  # the probe step goes on
    assert "could not mark it running" in caplog.text


def test_the_root_opens_the_console_and_unknown_paths_are_problems(svc):
    root = svc.http.get("/", follow_redirects=False)
    assert root.status_code == 303 and root.headers["location"] == "/console/"
    _error(svc.http.get("/api/v1/nothing-here"), 404, "not_found")
    _error(svc.http.delete("/healthz"), 405, "method_not_allowed")
    page = svc.http.get("/console/nothing-here")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html") and "找不到" in page.text


def test_a_malformed_job_id_is_404_not_500(svc):
    for path in ("/api/v1/jobs/%3A/report", "/api/v1/jobs/%3A/report.html", "/api/v1/jobs/%3A/artifacts"):
        answer = svc.http.get(path)
        assert answer.status_code == 404 and answer.json()["code"] == "job.not_found", path
