"""Watermarks against template text: slides of one template that repeat a unit header, a slogan, a
school footer and their titles raise no text.watermark; a recorder's mark over the same slides does."""
from __future__ import annotations

from pathlib import Path

from testmedia.cache import cached
from testmedia.slides import SANS, SANS_BOLD, Slide, Text, Video, render
from tests.test_onscreen import near, only, run_stage

BODIES = [["你好，同学们", "今天我们一起学习"], ["第一部分：复习旧知", "说一说你学过什么"], ["例1 读一读", "你好 你好 你好"],
          ["第二部分：新课", "想一想，说一说"], ["练一练", "同桌互相说一说"], ["人人都来读一读", "你好 你好"],
          ["第三部分：练习", "做一做"], ["课堂小结", "你学会了什么？"], ["课后作业", "读一读 写一写"]]


def template_slides() -> tuple[Slide, ...]:
    """45 s: nine slides of one template; header, slogan and footer on every slide, two titles alternating."""
    slides = []
    for i, body in enumerate(BODIES):
        lines = (Text("第三单元 分数的初步认识", (40, 24), 24, SANS, "#546e7a"),
                 Text("新课学习" if i % 3 == 0 else "课堂练习", (500, 80), 48, SANS_BOLD, "#1a3e72"),
                 *(Text(line, (120, 220 + 80 * k), 40, SANS) for k, line in enumerate(body)),
                 Text("认真听讲 积极思考", (1000, 670), 22, SANS, "#8a8a8a"),
                 Text("阳光小学 数学组", (40, 670), 22, SANS, "#8a8a8a"))
        slides.append(Slide(lines, 5.0))
    return tuple(slides)


def test_repeated_template_lines_are_not_watermarks(media_cache: Path, tmp_path: Path) -> None:
    path = cached(media_cache, "watermark-template.mp4", render, Video(template_slides()))
    output = run_stage(path, tmp_path)
    assert [(f.code, f.evidence.get("text")) for f in output.findings if f.code == "text.watermark"] == []


def test_recorder_mark_over_template_slides_is_found(media_cache: Path, tmp_path: Path) -> None:
    path = cached(media_cache, "watermark-template-marked.mp4", render, Video(template_slides(), mark="录屏大师 试用版"))
    mark = only(run_stage(path, tmp_path), "text.watermark")
    assert mark.severity == "review" and "录屏" in mark.evidence["text"].replace(" ", "")
    assert near(mark.start_s, 0.0, 0.5) and near(mark.end_s, 45.0, 0.5)
    left, top, right, bottom = mark.evidence["box"]
    assert left > 900 and bottom < 120
