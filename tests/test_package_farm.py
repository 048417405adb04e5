"""A package job on the farm: documents fan out as tasks on the ocr queue; the report equals the embedded one."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines import profile as profiles
from pipelines import registry
from pipelines.package.check import check_package
from pipelines.report.document import to_dict
from workers import jobs, paths, settings
from workers.state import JobStore, MemoryBackend
from testmedia import package as gen

SKIP = ("speech", "onscreen", "lab")


class ListOutbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send_task(self, spec: jobs.JobSpec, task: jobs.Task, time_limit_ms: int) -> None:
        self.sent.append(("task", task.key, task.queue))

    def send_report(self, spec: jobs.JobSpec, time_limit_ms: int) -> None:
        self.sent.append(("report", spec.job_id, "report"))


@pytest.fixture
def farm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> jobs.Farm:
    (tmp_path / "media").mkdir()
    monkeypatch.setenv(paths.ROOTS_ENV, str(tmp_path / "media"))
    monkeypatch.setenv(settings.REPORT_DIR_ENV, str(tmp_path / "reports"))
    return jobs.Farm(JobStore(MemoryBackend()), ListOutbox(), tmp_path / "reports", stages=registry.all_stages())


def _run_job(farm: jobs.Farm, spec: jobs.JobSpec) -> dict:
    farm.store.create(spec.job_id, spec.to_dict())
    jobs.start(spec, farm)
    for task in [jobs.Task.from_dict(t) for t in farm.store.plan(spec.job_id) or []]:
        jobs.run_task(spec, task, farm)
    jobs.finalize(spec, farm)
    return json.loads((farm.report_root / spec.job_id / "report.json").read_text(encoding="utf-8"))


def _summary(doc: dict) -> list[tuple]:
    return sorted((f["code"], f["evidence"].get("file"), f["evidence"].get("page") or f["evidence"].get("slide"))
                  for f in doc["findings"])


def test_package_job_fans_documents_out_and_equals_the_embedded_check(farm, media_cache, tmp_path):
    clip = gen.video(media_cache)
    folder = gen.package(tmp_path / "build", "学科课程", clip)
    gen.slides(folder / "课件.pptx", ["分数", "平均分"], pictures={2: gen.qr_picture("https://weixin.qq.com/r/abc123")})
    gen.word_doc(folder / "学习任务单.docx", "学习任务单", gen.TASK_HEADINGS, footer="更多资料请访问 www.youke-shop.com")
    archive = gen.zip_folder(folder, tmp_path / "media" / "pkg.zip")
    spec = jobs.JobSpec("pkgjob1", str(archive), "micro-primary", skip=SKIP, source="pkg.zip", category="学科课程")
    doc = _run_job(farm, spec)
    sent = farm.outbox.sent
    assert ("task", "signal", "media") in sent
    assert sorted(key for kind, key, queue in sent if queue == "ocr") == ["doc@0", "doc@1", "doc@2", "doc@3"]
    embedded = to_dict(check_package(archive, "学科课程", profiles.load("micro-primary"), tmp_path / "embedded",
                                     skip=frozenset(SKIP)))
    assert _summary(doc) == _summary(embedded)
    assert ("doc.qr_code", "课件.pptx", 2) in _summary(doc) and ("doc.ad", "学习任务单.docx", 1) in _summary(doc)
    assert doc["package"] == embedded["package"]
    assert doc["stages"]["package"]["status"] == "ok" and doc["media"] is not None
    assert not (farm.report_root / ".work" / "pkgjob1").exists()


def test_unsafe_package_job_ends_with_an_error_report(farm, tmp_path):
    import zipfile
    archive = tmp_path / "media" / "slip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil.txt", b"x")
    doc = _run_job(farm, jobs.JobSpec("pkgjob2", str(archive), "micro-primary", skip=SKIP, category="学科课程"))
    assert doc["verdict"] == "error" and [f["evidence"]["reason"] for f in doc["findings"]] == ["zip_slip"]
    assert doc["package"] == {"category": "学科课程", "parts": []}
    assert not (tmp_path / "evil.txt").exists()


def test_package_job_without_a_video_reports_the_missing_part(farm, media_cache, tmp_path):
    clip = gen.video(media_cache)
    folder = gen.package(tmp_path / "media" / "pkg", "实验教学", clip, leave_out=("实验教学视频",))
    doc = _run_job(farm, jobs.JobSpec("pkgjob3", str(folder), "lab", skip=SKIP, category="实验教学"))
    assert doc["media"] is None and doc["verdict"] == "fail"
    assert [(f["code"], f["evidence"]["part"]) for f in doc["findings"]] == [("package.missing", "实验教学视频")]
    assert [kind for kind, _, _ in farm.outbox.sent].count("task") == 3


def test_a_probe_step_run_twice_at_once_leaves_the_first_run_s_unpacked_files_alone(farm, media_cache, tmp_path):
    """A probe step redone while the first run still goes (its host cut off, the requeue after a Redis outage)
    unpacked the package again into the same folder: the tasks the first run sent read files being rewritten.
    Each run unpacks into a folder of its own; the first stored entry is the one every task reads."""
    clip = gen.video(media_cache)
    folder = gen.package(tmp_path / "build", "学科课程", clip)
    archive = gen.zip_folder(folder, tmp_path / "media" / "pkg.zip")
    spec = jobs.JobSpec("pkgjob4", str(archive), "micro-primary", skip=SKIP, source="pkg.zip", category="学科课程")
    farm.store.create(spec.job_id, spec.to_dict())
    jobs.start(spec, farm)
    first = farm.store.probe(spec.job_id)
    files = [Path(first["package"]["video"]["path"])] + [Path(d["path"]) for d in first["package"]["documents"]]
    before = {f: (f.stat().st_ino, f.stat().st_mtime_ns) for f in files}
    path, profile = jobs.open_job(spec, farm.store)
    late = jobs._probe(path, profile, spec, farm)  # the second run, which found no entry when it began
    assert late == first and farm.store.probe(spec.job_id) == first
    assert {f: (f.stat().st_ino, f.stat().st_mtime_ns) for f in files} == before, "the first run's files were rewritten"
    for task in [jobs.Task.from_dict(t) for t in farm.store.plan(spec.job_id) or []]:
        jobs.run_task(spec, task, farm)
    jobs.finalize(spec, farm)
    doc = json.loads((farm.report_root / spec.job_id / "report.json").read_text(encoding="utf-8"))
    assert doc["verdict"] != "error" and doc["stages"]["package"]["status"] == "ok"
    assert not (farm.report_root / ".work" / spec.job_id).exists()
