"""report.html for a Chinese reviewer: Chinese headings and messages, China time, evidence as labelled
fields, the spoken promotion's sentence quoted, and the farm's page naming its video beside it."""
from __future__ import annotations

import re

from pipelines.report import document as reports
from pipelines.report.page import render
from pipelines.report.readable import VIDEO_BESIDE, china_time, cue_names, zh
from tests import consolekit as kit
from workers import reportstore


def test_report_page_reads_in_chinese_with_readable_evidence(console_lesson, tmp_path):
    _, report_dir, doc = console_lesson
    html = render({**kit.with_review_extras(doc), "created_at": "2026-12-07T04:05:06+00:00"}, report_dir)
    headings = re.findall(r"<h[12]>(.*?)</h[12]>", html)
    assert headings[0] == "LessonQC 预审报告" and all(not re.search(r"[A-Za-z]{3,}", h) for h in headings[1:]), headings
    assert "2026-12-07 12:05:06" in html, "created_at in China time"
    assert "on-screen advertising" not in html and "persistent watermark" not in html
    ad = next(f for f in doc["findings"] if f["code"] == "text.ad")
    assert zh(ad["message"]) in html
    assert "<dt>识别文字</dt>" in html and "<dt>命中</dt><dd>网址：www.example-edu.com" in html
    assert '{"' not in html.split("<h2>测量值</h2>")[0], "no raw JSON before the metrics section"
    assert f"<blockquote>“{kit.SPOKEN}”</blockquote>" in html and "<dd>行动号召＋联系渠道、扫码</dd>" in html
    assert ".sev{font-weight:bold;white-space:nowrap}" in html and "th{background:#f5f5f5;white-space:nowrap}" in html


def test_readable_helpers():
    assert zh("画面出现广告信息：网址 www.a.com / on-screen advertising") == "画面出现广告信息：网址 www.a.com"
    assert zh("片头缺少：教师 / title card lacks 1 field(s)") == "片头缺少：教师"
    assert zh("画面出现繁体字/异体字：歷") == "画面出现繁体字/异体字：歷", "a slash between Chinese words stays"
    assert zh("only english") == "only english"
    assert cue_names(["action+channel", "scan_code", "scan_code", "new_kind"]) == ["行动号召＋联系渠道", "扫码", "new_kind"]
    assert china_time("2026-12-31T16:30:00+00:00") == "2027-01-01 00:30" and china_time(None) == "—"


def test_the_farm_report_names_its_video_beside_the_page(tmp_path):
    """The farm publishes report.html with the video as `video`: /jobs/{id}/report.html -> /jobs/{id}/video,
    /console/files/{id}/report.html -> /console/files/{id}/video (the console serves the job's media there)."""
    report = reports.Report("farmjob1", "lesson.mp4", "micro-primary")
    report.media = _media()          # a report without media shows no player
    folder, _ = reportstore.publish(report, tmp_path)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert f"src='{VIDEO_BESIDE}'" in html and "id='video-url'" in html
    checked = tmp_path / "checked"
    reports.write(report, checked)
    assert f"src='{VIDEO_BESIDE}'" not in (checked / "report.html").read_text(encoding="utf-8")


def _media():
    from pipelines.domain import AudioInfo, Media, VideoInfo

    return Media(container="mov,mp4", duration_s=20.0, size_bytes=1_000_000, bit_rate=400_000,
                 video=VideoInfo(codec="h264", width=1280, height=720, dar="16:9", fps=25.0, vfr=False,
                                 pix_fmt="yuv420p", scan="progressive", bit_rate=350_000),
                 audio=AudioInfo(codec="aac", sample_rate=48000, channels=2, bit_rate=64_000))
