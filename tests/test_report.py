"""The report contract: JSON Schema validation, atomic files, escaped HTML, the clean control lesson."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pipelines import registry
from pipelines import profile as profiles
from pipelines.report import document as reports
from pipelines import stages
from pipelines.frames import FrameConsumer
from pipelines.check import check
from pipelines.domain import Finding, StageRun, TranscriptSegment
from testmedia import cached
from testmedia.lesson import LessonSpec, make_lesson

EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="session")
def control_lesson(media_cache: Path) -> Path:
    """A compliant 1080p25 lesson: title card, Chinese slides, teacher inset, Mandarin speech (16 s)."""
    return cached(media_cache, "control-lesson.mp4", make_lesson, LessonSpec(seconds=16.0, slide_s=5.0, title_s=6.0))


@pytest.fixture(scope="session")
def control_report(control_lesson: Path, tmp_path_factory) -> tuple[reports.Report, Path]:
    """The full check, speech included (its tests are marked `model`)."""
    out = tmp_path_factory.mktemp("control")
    return check(control_lesson, profiles.load("micro-primary"), out), out


@pytest.mark.model
def test_control_lesson_raises_no_false_alarm(control_report):
    report, _ = control_report
    problems = [(f.code, f.severity, f.message) for f in report.findings
                if f.severity in ("fail", "review") and f.code != "tech.duration"]
    assert problems == []
    assert [f.code for f in report.findings if f.severity != "info"] == ["tech.duration"]
    assert all(s.status in ("ok", "skipped") for s in report.stages.values()), report.stages


@pytest.mark.model
def test_control_report_files_validate(control_report):
    _, out = control_report
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    reports.validate(doc)
    assert doc["schema_version"] == "1" and doc["verdict"] == "fail"
    assert doc["media"]["video"]["width"] == 1920 and doc["media"]["video"]["fps"] == 25
    assert doc["media"]["video"]["scan"] == "progressive"
    assert {"probe", "signal"} <= set(doc["stages"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "tech.duration" in html and "预审报告" in html
    assert not list(out.glob(".report.*")), "no temp files left behind"


@pytest.mark.model
def test_schema_rejects_a_broken_report(control_report):
    _, out = control_report
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for broken in ({**doc, "verdict": "maybe"}, {k: v for k, v in doc.items() if k != "stages"},
                   {**doc, "findings": [{"code": "tech.duration", "severity": "bad"}]}):
        with pytest.raises(jsonschema.ValidationError):
            reports.validate(broken)


def _evil_report() -> reports.Report:
    report = reports.Report("job<1>", f"/media/{EVIL}.mp4", "micro-primary")
    report.findings.append(Finding("text.ad", "fail", f"OCR: {EVIL}", 1.0, 2.0, {"text": EVIL, "key": EVIL}))
    report.transcript.append(TranscriptSegment(0.0, 1.0, EVIL, "zh"))
    report.stages["probe"] = StageRun("error", 0.1, EVIL)
    return report


def test_html_escapes_every_string(tmp_path):
    paths = reports.write(_evil_report(), tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert doc["findings"][0]["evidence"]["text"] == EVIL, "JSON keeps the raw text"


def test_write_is_atomic_and_overwrites(tmp_path):
    reports.write(_evil_report(), tmp_path)
    first = (tmp_path / "report.json").read_text(encoding="utf-8")
    report = _evil_report()
    report.findings.clear()
    reports.write(report, tmp_path)
    assert (tmp_path / "report.json").read_text(encoding="utf-8") != first
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_verdict_rules():
    report = reports.Report("j", "s", "p")
    assert report.verdict == "pass"
    report.findings.append(Finding("signal.black", "review", "m", 0.0, 3.0))
    assert report.verdict == "review"
    report.stages["speech"] = StageRun("error", 0.0, "boom")
    assert report.verdict == "review", "a failed stage makes the verdict at least review"
    report.findings.append(Finding("tech.resolution", "fail", "m"))
    assert report.verdict == "fail"
    report.findings.append(Finding("input.unreadable", "fail", "m"))
    assert report.verdict == "error"


def test_only_reviewer_artifacts_are_published(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "sheet.jpg").write_bytes(b"\xff\xd8\xff\xd9")
    (work / "state.npz").write_bytes(b"internal")
    report = _evil_report()
    report.artifacts = {"contact_sheet": str(work / "sheet.jpg"), "lab_track": str(work / "state.npz")}
    doc = json.loads(reports.write(report, tmp_path / "out")["json"].read_text(encoding="utf-8"))
    assert doc["metrics"]["artifacts"] == {"contact_sheet": "artifacts/sheet.jpg"}
    assert sorted(p.name for p in (tmp_path / "out" / "artifacts").iterdir()) == ["sheet.jpg"]


class _BrokenConsumer(FrameConsumer):
    name = "broken"

    def consume(self, frame) -> None:
        if frame.time_s >= 2.0:
            raise ValueError("detector bug")

    def finish(self):
        raise AssertionError("never finished after failing")


class _BrokenStage(stages.FrameStage):
    name = "broken"

    def consumer(self, ctx):
        return _BrokenConsumer()


@pytest.mark.allow_error_logs
def test_a_failing_frame_stage_is_isolated(control_lesson, tmp_path):
    """The shared decode goes on without it: the signal pass and other stages finish, the verdict is at least review."""
    run = [*registry.all_stages().values(), _BrokenStage()]
    report = check(control_lesson, profiles.load("micro-primary"), tmp_path, skip=frozenset({"speech"}), stages=run)
    assert report.stages["broken"].status == "error" and "detector bug" in report.stages["broken"].error
    assert report.stages["signal"].status == "ok" and report.stages["onscreen"].status == "ok"
    assert report.verdict in ("review", "fail") and "signal" in report.metrics
