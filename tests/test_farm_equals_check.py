"""The farm's report equals `lessonqc check`'s on a lesson split into 3 segments for speech and on-screen.

A 75 s lesson (slides with an advertising slide across a segment seam, Mandarin speech
with a spoken promotion) runs through the actors on a StubBroker with 25 s segments, so
the stages' own merges (speech tallies and transcripts, on-screen seams) build the report.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import dramatiq
import pytest

from pipelines import profile as profiles
from pipelines.check import check
from pipelines.report.document import to_dict
from testmedia import cached, clips, slides
from testmedia.base import ffmpeg
from testmedia.slides import SANS_BOLD, Slide, Text, Video
from tests.farmkit import assert_same_findings, wait_for
from workers import api, jobs, paths, settings
from workers import broker as brokers

SEGMENT_S = 25.0
CLIPS = ["zh_lesson_fraction_1.flac", "zh_lesson_fraction_2.flac", "zh_lesson_fraction_3.flac",
         "zh_promo_wechat.flac", "zh_lesson_fraction_1.flac", "zh_lesson_fraction_2.flac",
         "zh_lesson_fraction_3.flac", "zh_lesson_fraction_1.flac"]  # promotion at ~30.4-38.8 s


def _slide(title: str, body: list[str], seconds: float) -> Slide:
    lines = [Text(title, (90, 60), 48, SANS_BOLD, "#1a3e72")]
    return Slide(tuple(lines + [Text(t, (90, 180 + 80 * i), 36) for i, t in enumerate(body)]), seconds)


SLIDES = Video((
    _slide("分数的初步认识", ["人教版 数学 三年级上册", "主讲教师：王丽"], 15.0),
    _slide("认识几分之一", ["把一个蛋糕平均分成4份", "每份是它的四分之一"], 15.0),
    _slide("比较几分之一的大小", ["二分之一和三分之一哪个大？", "分子相同，分母越大，分数越小"], 15.0),
    _slide("课后拓展", ["更多学习资料请访问 www.xueba-edu.com", "关注微信公众号：学霸课堂", "咨询电话：138 1234 5678"], 12.0),
    _slide("课堂小结", ["分数各部分的名称：分子、分母、分数线", "完成练习册第15页第1至3题"], 18.0),
))  # the advertising slide: 45-57 s, across the seam at 50 s


def sounded_slides(out: Path, video: Video, speech_clips: list[str]) -> Path:
    """`video`'s slides with the Mandarin clips laid end to end (looped) as sound."""
    seconds = sum(s.seconds for s in video.slides)
    with tempfile.TemporaryDirectory(prefix="lesson75-") as tmp:
        picture = slides.render(Path(tmp) / "slides.mp4", video)
        speech = clips.speech_track(Path(tmp) / "speech.wav", seconds, speech_clips)
        ffmpeg("-i", picture, "-i", speech, "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac",
               "-b:a", "128k", "-ar", "48000", "-t", f"{seconds:g}", "-f", "mp4", out)
    return out


@pytest.fixture(scope="session")
def lesson75(media_cache: Path) -> Path:
    return cached(media_cache, "farm-lesson75.mp4", sounded_slides, SLIDES, CLIPS)


@pytest.fixture
def stub_farm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    media, reports = tmp_path / "media", tmp_path / "reports"
    media.mkdir()
    monkeypatch.setenv(paths.ROOTS_ENV, str(media))
    monkeypatch.setenv(settings.REPORT_DIR_ENV, str(reports))
    monkeypatch.setenv(settings.SEGMENT_ENV, f"{SEGMENT_S:g}")
    jobs.open_job_profile.cache_clear()
    binding = brokers.install(brokers.make_stub())
    worker = dramatiq.Worker(binding.broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield SimpleNamespace(media=media)
    worker.stop()
    brokers.uninstall()
    jobs.open_job_profile.cache_clear()


def _span(doc: dict, code: str) -> tuple[float, float]:
    found = [f for f in doc["findings"] if f["code"] == code]
    assert len(found) == 1, (code, found)
    return found[0]["start_s"], found[0]["end_s"]


@pytest.mark.model
def test_farm_report_equals_embedded_check_on_three_segments(lesson75: Path, stub_farm, tmp_path: Path):
    media = stub_farm.media / "lesson.mp4"
    shutil.copyfile(lesson75, media)
    job_id = api.submit(media, "micro-primary")
    farm = wait_for(lambda: api.report(job_id), 600, poll_s=0.5, what=f"the farm report of job {job_id}")
    embedded = to_dict(check(media, profiles.load("micro-primary"), tmp_path / "embedded"))

    tasks = api.status(job_id)["tasks"]
    for stage in ("speech", "onscreen"):
        assert [k for k in tasks if k.startswith(f"{stage}@")] == [f"{stage}@0", f"{stage}@25", f"{stage}@50"]
    assert_same_findings(farm, embedded)
    farm_stages = {k: v["status"] for k, v in farm["stages"].items() if k != "originality"}  # the farm's index only
    assert farm_stages == {k: v["status"] for k, v in embedded["stages"].items()}
    for doc in (farm, embedded):  # the findings the merges must carry across the seams
        ad_start, ad_end = _span(doc, "text.ad")
        assert abs(ad_start - 45.0) <= 1.0 and abs(ad_end - 57.0) <= 1.0, (ad_start, ad_end)
        spoken_start, spoken_end = _span(doc, "speech.ad")
        assert 29.5 <= spoken_start and spoken_end <= 40.0, (spoken_start, spoken_end)
    assert farm["metrics"]["speech"]["speech_ratio"] == pytest.approx(embedded["metrics"]["speech"]["speech_ratio"],
                                                                      abs=0.03)
    words = lambda doc: "".join(s["text"] for s in doc["transcript"])  # noqa: E731
    assert len(words(farm)) == pytest.approx(len(words(embedded)), rel=0.1)
