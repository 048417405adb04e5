"""On-screen stage on real H.264 slide videos: ads, QR codes, traditional characters,
watermarks and the title card, with exact codes and time ranges; segments merge."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.media import decode
from pipelines import profile
from pipelines import stages
from pipelines.onscreen.stage import OnscreenStage
from pipelines.media.probe import probe
from pipelines.domain import Finding, StageOutput
from testmedia import cached
from testmedia.slides import SANS, SANS_BOLD, SERIF, Slide, Text, Video, render

CODES = {"text.ad", "text.qr_code", "text.traditional", "text.watermark", "intro.title_card"}
QR_PAYLOAD = "https://example.com/answers?id=42"


def _slide(title: str, body: list[str], font: str = SANS, x: int = 90, seconds: float = 4.0, **kw) -> Slide:
    lines = [Text(title, (x, 60), 48, SANS_BOLD, "#1a3e72")]
    lines += [Text(t, (x, 170 + 80 * i), 36, font) for i, t in enumerate(body)]
    return Slide(tuple(lines), seconds, **kw)


TITLE_FULL = Slide((Text("分数的初步认识", (440, 60), 56, SANS_BOLD, "#1a3e72"),
                    Text("教材版本：北师大版", (420, 200), 40), Text("学科：数学", (420, 280), 40),
                    Text("年级：三年级下册", (420, 360), 40), Text("课名：分数的初步认识", (420, 440), 40),
                    Text("执教：李明", (420, 520), 40)), 6.0)
TITLE_NO_TEACHER = Slide((Text("人教版  数学  三年级上册", (300, 220), 48, SERIF),
                          Text("《长方体和正方体》", (380, 340), 56, SERIF)), 6.0)
CONTENT = [
    _slide("第一部分 认识几分之一", ["把一个蛋糕平均分成4份，每份是它的1/4。", "例：3/4 + 1/4 = 1", "第2页"], SERIF),
    Slide((Text("练习：比较大小", (420, 60), 48, SANS_BOLD, "#ffffff"),
           Text("1/2 和 1/3 哪个大？", (420, 200), 40, SANS, "#f0f0f0"),
           Text("2024年9月1日 星期日", (420, 290), 40, SANS, "#f0f0f0"),
           Text("3.14 × 20 = 62.8", (420, 380), 40, SANS, "#f0f0f0")), 4.0, "#1d2b3a"),
    _slide("课堂小结", ["分数各部分的名称：分子、分母、分数线", "面积 = 12 × 8 = 96 平方厘米", "页码 13/45"], SERIF, x=160),
    _slide("课后作业", ["完成练习册第15页第1至3题", "预习：分数的简单计算"]),
]
AD = Slide((Text("课后拓展", (90, 60), 48, SANS_BOLD, "#1a3e72"),
            Text("更多学习资料请访问 www.xueba-edu.com", (90, 200), 36),
            Text("关注微信公众号：学霸课堂", (90, 300), 36, SERIF),
            Text("咨询电话：138 1234 5678", (700, 640), 28)), 4.0)
QR = Slide((Text("课后练习答案", (90, 60), 48, SANS_BOLD, "#1a3e72"),
            Text("完成后再核对答案", (90, 200), 36)), 4.0, qr=(QR_PAYLOAD, 820, 220, 300))
TRADITIONAL = Slide((Text("第二單元 長方體和正方體", (90, 60), 48, SERIF, "#1a3e72"),
                     Text("學習目標：認識體積和容積的計量單位", (90, 200), 36, SERIF),
                     Text("實驗：用小正方體拼成長方體，觀察並記錄數據", (90, 290), 36, SERIF),
                     Text("討論：長方體的體積與長、寬、高有什麼關係？", (90, 380), 36, SERIF)), 4.0)

FOOTER = Text("阳光小学 数学组", (60, 670), 24, fill="#8a8a8a")


def numbered(slides: list[Slide], footer: Text | None = None) -> tuple[Slide, ...]:
    """Slides with a page number (and an optional fixed footer), as PowerPoint templates have."""
    extra = (footer,) if footer else ()
    return tuple(Slide(s.lines + (Text(f"第 {n} 页", (1120, 670), 24, fill="#8a8a8a"),) + extra, s.seconds, s.bg, s.qr)
                 for n, s in enumerate(slides, 1))


CLEAN = Video(numbered([TITLE_FULL, *CONTENT]), inset=True)
DEFECTS = Video(numbered([TITLE_NO_TEACHER, CONTENT[0], AD, CONTENT[1], QR, CONTENT[2], TRADITIONAL, CONTENT[3]],
                         FOOTER), mark="EV录屏 试用版")
NO_TITLE = Video(tuple(CONTENT[:3]))


def run_stage(path: Path, workdir: Path, start_s: float = 0.0, duration_s: float | None = None) -> StageOutput:
    """The stage on one stream, as the farm runs a segment."""
    prof = profile.load("micro-primary")
    media = probe(path, prof).media
    ctx = stages.StageContext(path, media, prof, workdir, start_s, duration_s)
    stage = OnscreenStage()
    consumer = stage.consumer(ctx)
    decode.stream_frames(path, stage.frame_spec(prof), (media.video.width, media.video.height), [consumer],
                         start_s, duration_s)
    return consumer.finish()


def only(output: StageOutput, code: str) -> Finding:
    found = [f for f in output.findings if f.code == code and f.severity != "info"]
    assert len(found) == 1, [(f.code, f.start_s, f.end_s, f.message) for f in output.findings]
    return found[0]


def near(value: float | None, expected: float, tolerance: float = 1.0) -> bool:
    return value is not None and abs(value - expected) <= tolerance


@pytest.fixture(scope="module")
def defects(media_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> StageOutput:
    return run_stage(cached(media_cache, "onscreen-defects.mp4", render, DEFECTS), tmp_path_factory.mktemp("defects"))


def test_clean_lesson_raises_nothing(media_cache: Path, tmp_path: Path) -> None:
    output = run_stage(cached(media_cache, "onscreen-clean.mp4", render, CLEAN), tmp_path)
    assert [(f.code, f.message) for f in output.findings if f.code in CODES] == []
    assert output.metrics["ocr_frames"] <= len(CLEAN.slides) + 2
    assert output.metrics["sampled_frames"] >= 2 * 20


def test_defects_give_exactly_these_codes(defects: StageOutput) -> None:
    review = [f.code for f in defects.findings if f.severity != "info"]
    assert sorted(review) == sorted(CODES)
    footer = [f for f in defects.findings if f.severity == "info"]  # a template footer is not a watermark
    assert footer == []


def test_ad_slide(defects: StageOutput) -> None:
    ad = only(defects, "text.ad")
    assert near(ad.start_s, 10.0) and near(ad.end_s, 14.0)
    assert ad.severity == "fail", "on-screen advertising breaks a production rule"
    rules = {m["rule"] for m in ad.evidence["matches"]}
    assert {"url", "official_account"} <= rules and rules & {"mobile", "phone_label"}
    assert "xueba-edu.com" in ad.evidence["text"] and Path(ad.evidence["thumbnail"]).is_file()


def test_qr_code_with_payload(defects: StageOutput) -> None:
    qr = only(defects, "text.qr_code")
    assert near(qr.start_s, 18.0) and near(qr.end_s, 22.0)
    assert [c["payload"] for c in qr.evidence["codes"]] == [QR_PAYLOAD]
    left, top, right, bottom = qr.evidence["box"]
    assert 780 <= left <= 860 and 180 <= top <= 260 and right - left > 200


def test_traditional_slide(defects: StageOutput) -> None:
    found = only(defects, "text.traditional")
    assert near(found.start_s, 26.0) and near(found.end_s, 30.0)
    assert len(set(found.evidence["chars"]) & set("單長體學習認積計實驗觀並記錄數據討論與寬麼關係")) >= 8
    assert not set(found.evidence["chars"]) & set("长体学习认积实验")


def test_watermark_over_whole_video(defects: StageOutput) -> None:
    mark = only(defects, "text.watermark")
    assert near(mark.start_s, 0.0) and near(mark.end_s, 34.0)
    left, top, right, bottom = mark.evidence["box"]
    assert left > 900 and bottom < 120
    assert "录屏" in mark.evidence["text"].replace(" ", "") and mark.severity == "review"


def test_title_card_missing_teacher(defects: StageOutput) -> None:
    card = only(defects, "intro.title_card")
    assert card.evidence["missing"] == ["主讲教师"]
    assert card.start_s == 0.0 and near(card.end_s, 8.0, 0.01)


def test_no_title_card(media_cache: Path, tmp_path: Path) -> None:
    output = run_stage(cached(media_cache, "onscreen-no-title.mp4", render, NO_TITLE), tmp_path)
    card = only(output, "intro.title_card")
    assert card.evidence["missing"] == ["教材版本", "学科", "年级", "课名", "主讲教师"]
    assert "片头" in card.message
    assert [f.code for f in output.findings] == ["intro.title_card"]


def test_segments_merge_like_whole_video(media_cache: Path, tmp_path: Path, defects: StageOutput) -> None:
    path = cached(media_cache, "onscreen-defects.mp4", render, DEFECTS)
    parts = [run_stage(path, tmp_path / "a", 0.0, 17.0), run_stage(path, tmp_path / "b", 17.0, None)]
    prof = profile.load("micro-primary")
    ctx = stages.StageContext(path, probe(path, prof).media, prof, tmp_path)
    merged = OnscreenStage().merge(parts, ctx)

    def summary(output: StageOutput) -> list[tuple[str, float, float]]:
        return sorted((f.code, round(f.start_s or 0.0), round(f.end_s or 0.0)) for f in output.findings)

    assert summary(merged) == summary(defects)
    assert merged.metrics["sampled_frames"] == defects.metrics["sampled_frames"]
