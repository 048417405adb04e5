"""Attacks on the platform API (a real socket, SQLite and PostgreSQL), each kept as a test: server files named
as profiles, an uploaded file's name taken for a path, server paths and addresses in error messages,
reports served on the server's origin, Swagger UI from a CDN."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import redis

from config import CONFIG_DIR
from pipelines import profile as profiles
from tests.farmkit import wait_for
from tests.test_service import _error, server, small_clip, svc, worker  # noqa: F401 - fixtures
from workers import api as farm_api
from workers import indexing
from index.models import Job

SERVER_FILES = ["/etc/shadow", "/etc/passwd", "/etc/hostname", "/nonexistent/secret.yaml", "/root",
                "../config/profiles/lab.yaml", "config/profiles/lab", "/proc/self/environ"]


@pytest.fixture
def reads(monkeypatch) -> list[Path]:
    """Every profile file the server reads."""
    seen: list[Path] = []
    real = profiles._read

    def recorded(path: Path):
        seen.append(Path(path))
        return real(path)

    monkeypatch.setattr(profiles, "_read", recorded)
    return seen


def test_a_server_path_named_as_profile_is_never_opened(svc, reads):
    (svc.media / "a.mp4").write_bytes(b"x")
    (svc.media / "mine.yaml").write_text("name: mine\nroot:*:19000:0:99999:7:::\n", encoding="utf-8")
    big = svc.media / "big.yaml"
    with big.open("wb") as fh:   # a 100 MB "profile" under the media root (sparse: costs no disk)
        fh.truncate(100_000_000)
    details = set()
    for ref in [*SERVER_FILES, str(svc.media / "mine.yaml"), str(big), "mine.yaml"]:
        answer = svc.http.post("/api/v1/jobs", json={"media": "a.mp4", "profile": ref})
        _error(answer, 422, "profile.invalid")
        assert "root:" not in answer.text and "19000" not in answer.text
        details.add(answer.json()["detail"].replace(repr(ref), "REF"))
        upload = svc.http.post("/api/v1/jobs", files={"file": ("a.mp4", b"x")}, data={"profile": ref})
        _error(upload, 422, "profile.invalid")
    assert len(details) == 1, details   # existence and readability make no difference
    assert all(path.is_relative_to(CONFIG_DIR) for path in reads), reads


def test_an_inline_profile_is_validated_like_a_profile_file(svc):
    (svc.media / "a.mp4").write_bytes(b"x")
    inline = {"name": "county-trial", "duration": {"min_s": 60}}
    answer = svc.http.post("/api/v1/jobs", json={"media": "a.mp4", "profile": inline, "languages": ["en"]})
    assert answer.status_code == 201, answer.text
    job = svc.http.get(f"/api/v1/jobs/{answer.json()['id']}").json()
    assert job["profile"] == "county-trial"
    with indexing.database().session() as s:
        snapshot = s.get(Job, job["id"]).profile_snapshot
    assert snapshot["name"] == "county-trial" and snapshot["data"]["duration"]["min_s"] == 60
    assert "en" in snapshot["data"]["languages"]["speech"]
    bad = svc.http.post("/api/v1/jobs", json={"media": "a.mp4", "profile": {"duration": {"colour": 1}}})
    _error(bad, 422, "profile.invalid")
    assert "duration.colour" in bad.json()["detail"]
    form = svc.http.post("/api/v1/jobs", files={"file": ("a.mp4", b"x")}, data={"profile": json.dumps(inline)})
    assert form.status_code == 201, form.text
    _error(svc.http.post("/api/v1/jobs", files={"file": ("a.mp4", b"x")}, data={"profile": "{not json"}),
           422, "profile.invalid")


def test_an_uploaded_files_name_is_text_never_a_path(svc, worker, small_clip: Path):
    """filename=/proc/self/cwd used to turn into the worker's folder in report.html's player."""
    data = small_clip.read_bytes()
    ids = {}
    for name in ("/proc/self/cwd", "pyproject.toml", "../../etc/hostname"):
        answer = svc.http.post("/api/v1/jobs", files={"file": (name, data, "video/mp4")},
                               data={"skip": "speech,onscreen"})
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()["id"]
    for name, job_id in ids.items():
        job = wait_for(lambda: (j := svc.http.get(f"/api/v1/jobs/{job_id}").json())["verdict"] and j, 60,
                       what="the report")
        assert job["source"] == name
        html = svc.http.get(f"/api/v1/jobs/{job_id}/report.html")
        assert os.getcwd() not in html.text and str(Path.cwd().parent) not in html.text
        assert "<video id='player'" in html.text
        assert html.headers["content-security-policy"].startswith("sandbox")
        assert html.headers["cache-control"] == "no-store"
        stored = [p.name for p in (svc.media / "uploads" / job_id).iterdir()]
        assert stored and all("/" not in n and not n.startswith(".") for n in stored)
    artifact = svc.http.get(f"/api/v1/jobs/{ids['pyproject.toml']}/artifacts/report.html")
    assert artifact.headers["content-security-policy"].startswith("sandbox")


def test_messages_name_the_reference_never_server_paths(svc, monkeypatch):
    (svc.media / "out").symlink_to("/etc")
    roots = str(svc.media)
    for media, code in (("out/hostname", "media.path_refused"), ("/etc/hostname", "media.path_refused"),
                        ("2026/missing.mp4", "media.not_found"), (f"{roots}/missing.mp4", "media.not_found")):
        answer = svc.http.post("/api/v1/jobs", json={"media": media})
        _error(answer, 422, code)
        detail = answer.json()["detail"]
        assert media in detail and "/etc/hostname" not in detail.replace(media, "")
        assert roots not in detail.replace(media, ""), detail

    def redis_down(*args, **kwargs):
        raise redis.ConnectionError("Error 111 connecting to 10.20.30.40:6390. Connection refused.")

    monkeypatch.setattr(farm_api, "submit", redis_down)
    (svc.media / "a.mp4").write_bytes(b"x")
    answer = svc.http.post("/api/v1/jobs", json={"media": "a.mp4"})
    _error(answer, 503, "farm.unavailable")
    assert "10.20.30.40" not in answer.text and "6390" not in answer.text


def test_swagger_ui_is_served_from_local_assets(svc):
    page = svc.http.get("/docs")
    assert page.status_code == 200 and "/docs/static/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    script = svc.http.get("/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
