"""Verdicts on templates unlike the other fixtures: a title card over a moving striped background
(read at full size), its course name as an unlabelled heading, and citations of official sources
(`text.citation`, info) next to a citation of any other site (`text.ad`)."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import profile, stages
from pipelines.domain import StageOutput
from pipelines.media import decode
from pipelines.media.probe import probe
from pipelines.onscreen.stage import OnscreenStage
from testmedia import cached
from testmedia.cards import striped_card
from testmedia.slides import SANS, SANS_BOLD, Slide, Text

TOL = 0.5
PANEL = (300, 40, 980, 680)
HEADING = Text("分数的初步认识", (440, 70), 60, SANS_BOLD, "#0d47a1")
FIELDS = [Text(t, (400, 180 + 95 * i), 40, SANS, "#212121") for i, t in
          enumerate(["教材版本：人教版", "学科：数学", "年级：三年级上册", "课名：分数的初步认识", "主讲教师：王丽"])]
CARD = Slide((HEADING, *FIELDS), 6.0)
NO_TEACHER = Slide((HEADING, *FIELDS[:3]), 6.0)   # the course name only as the heading; no teacher
CITATION = Slide((Text("资料来源", (90, 60), 48, SANS_BOLD, "#1a3e72"),
                  Text("国家中小学智慧教育平台 basic.smartedu.cn", (90, 200), 36),
                  Text("人民教育出版社《数学》三年级上册", (90, 290), 36)), 4.0)
OTHER_SITE = Slide((Text("图片来源", (90, 60), 48, SANS_BOLD, "#1a3e72"),
                    Text("图片来源：www.tupian-ku.com", (90, 200), 36)), 4.0)
SLIDE = Slide((Text("课堂练习", (90, 60), 48, SANS_BOLD, "#1a3e72"), Text("把一张纸平均分成4份。", (90, 200), 36)), 4.0)


def run_stage(path: Path, workdir: Path) -> StageOutput:
    prof = profile.load("micro-primary")
    media = probe(path, prof).media
    stage = OnscreenStage()
    consumer = stage.consumer(stages.StageContext(path, media, prof, workdir))
    decode.stream_frames(path, stage.frame_spec(prof), (media.video.width, media.video.height), [consumer])
    return consumer.finish()


@pytest.fixture(scope="module")
def clean(media_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> StageOutput:
    path = cached(media_cache, "verdicts-striped-card.mp4", striped_card, CARD, PANEL, (CITATION, OTHER_SITE, SLIDE))
    return run_stage(path, tmp_path_factory.mktemp("clean"))


def judged(output: StageOutput) -> list[tuple[str, str, float, float]]:
    return [(f.code, f.severity, f.start_s, f.end_s) for f in output.findings if f.severity != "info"]


def test_title_card_over_moving_stripes_is_read(clean: StageOutput) -> None:
    assert "intro.title_card" not in [f.code for f in clean.findings], [f.message for f in clean.findings]


def test_official_citation_is_info_other_site_is_an_ad(clean: StageOutput) -> None:
    (citation,) = [f for f in clean.findings if f.code == "text.citation"]
    assert citation.severity == "info" and abs(citation.start_s - 6.0) <= TOL and abs(citation.end_s - 10.0) <= TOL
    assert "smartedu.cn" in citation.evidence["text"].replace(" ", "")
    assert [(c, s, round(a), round(b)) for c, s, a, b in judged(clean)] == [("text.ad", "fail", 10, 14)]
    (ad,) = [f for f in clean.findings if f.code == "text.ad"]
    assert abs(ad.start_s - 10.0) <= TOL and abs(ad.end_s - 14.0) <= TOL and "tupian-ku" in ad.evidence["text"]


def test_striped_card_without_teacher(media_cache: Path, tmp_path: Path) -> None:
    path = cached(media_cache, "verdicts-striped-no-teacher.mp4", striped_card, NO_TEACHER, PANEL, (SLIDE,))
    output = run_stage(path, tmp_path)
    (card,) = [f for f in output.findings if f.code == "intro.title_card"]
    assert card.evidence["missing"] == ["主讲教师"], card.evidence
    assert card.severity == "review" and card.start_s == 0.0 and abs(card.end_s - 8.0) <= 0.01
