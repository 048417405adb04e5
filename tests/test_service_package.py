"""A submission package through the HTTP API: uploaded as a .zip with `package_category`, checked by the farm."""
from __future__ import annotations

import pytest

from testmedia import package as gen
from tests.farmkit import wait_for
from tests.test_service import _error, server, svc, worker  # noqa: F401,F811 - the service fixtures

pytestmark = pytest.mark.parametrize("index_url", ["sqlite"], indirect=True)


def test_package_upload_is_checked_with_its_documents(svc, worker, media_cache, tmp_path):  # noqa: F811 (fixtures)
    clip = gen.video(media_cache)
    folder = gen.package(tmp_path / "pkg", "阅读课", clip, leave_out=("作业练习", "学习任务单"))
    archive = gen.zip_folder(folder, tmp_path / "阅读课.zip")
    answer = svc.http.post("/api/v1/jobs", files={"file": ("阅读课.zip", archive.read_bytes(), "application/zip")},
                           data={"package_category": "阅读课", "skip": "speech,onscreen,lab"})
    assert answer.status_code == 201, answer.text
    job_id = answer.json()["id"]
    wait_for(lambda: svc.http.get(f"/api/v1/jobs/{job_id}").json()["verdict"], 90, what="the package report")
    report = svc.http.get(f"/api/v1/jobs/{job_id}/report").json()
    assert report["package"]["category"] == "阅读课"
    missing = [f["evidence"]["part"] for f in report["findings"] if f["code"] == "package.missing"]
    assert missing == ["学习任务单"]
    assert {p["role"]: p["status"] for p in report["package"]["parts"]}["课件"] == "ok"


def test_unknown_package_category_is_422(svc):  # noqa: F811 (fixture)
    (svc.media / "p.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    _error(svc.http.post("/api/v1/jobs", json={"media": "p.zip", "package_category": "美术课"}), 422, "profile.invalid")
