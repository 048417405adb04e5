"""The on-screen building blocks alone: scene cutting, edge persistence, OCR of drawn slides,
QR codes, traditional glyphs and segment merging."""
from __future__ import annotations

from pathlib import Path

import dataclasses
import numpy as np
import pytest
import qrcode
from PIL import Image, ImageDraw, ImageFont

from pipelines import profile
from pipelines import stages
from pipelines.ocr import engine
from pipelines.frames import Frame
from pipelines.ocr.lines import Reader
from pipelines.onscreen.stage import merge_metrics, merge_watermarks
from pipelines.onscreen.frame_text import FrameReader
from pipelines.onscreen.codes import find_codes
from pipelines.domain import Finding, Media, VideoInfo
from pipelines.onscreen.scenes import SceneTracker
from pipelines.onscreen.watermark import EdgePersistence, consistency
from testmedia.base import SANS, SERIF

PROFILE = profile.load("micro-primary")
CFG = PROFILE.onscreen


def picture(lines: list[tuple[str, int, int, int, str]], size: tuple[int, int] = (1920, 1080)) -> np.ndarray:
    """A gray slide with (text, x, y, px, font) lines."""
    img = Image.new("L", size, 250)
    pen = ImageDraw.Draw(img)
    for text, x, y, px, font in lines:
        pen.text((x, y), text, font=ImageFont.truetype(font, px), fill=20)
    return np.asarray(img)


def blocks(seed: int, size: tuple[int, int] = (360, 640)) -> np.ndarray:
    """A synthetic slide: dark bars on white, laid out by `seed`."""
    rng = np.random.default_rng(seed)
    img = np.full(size, 245, np.uint8)
    for _ in range(12):
        y, x = int(rng.integers(10, size[0] - 30)), int(rng.integers(10, size[1] - 200))
        img[y:y + 12, x:x + int(rng.integers(60, 190))] = 30
    return img


def stream(pictures: list[tuple[np.ndarray, float]], fps: float = 2.0, inset: bool = False) -> list[Frame]:
    """Frames at `fps` showing each picture for its seconds; optionally a noisy live inset."""
    frames: list[Frame] = []
    rng = np.random.default_rng(7)
    for img, seconds in pictures:
        for _ in range(int(round(seconds * fps))):
            image = img.copy()
            if inset:
                image[-90:-10, -150:-10] = rng.integers(0, 255, (80, 140), dtype=np.uint8)
            frames.append(Frame(len(frames), len(frames) / fps, image))
    return frames


def track(frames: list[Frame], eager_s: float = 0.0) -> SceneTracker:
    tracker = SceneTracker(CFG.slides, 2.0, eager_s)
    for frame in frames:
        tracker.add(frame)
    tracker.close(frames[-1].time_s + 0.5)
    return tracker


def test_slide_changes_cut_scenes_and_live_inset_does_not() -> None:
    tracker = track(stream([(blocks(1), 5.0), (blocks(2), 5.0), (blocks(3), 5.0)], inset=True))
    cuts = [(s.start_s, s.end_s) for s in tracker.scenes]
    assert cuts[-2:] == [(5.0, 10.0), (10.0, 15.0)] and cuts[-3][1] == 5.0
    assert cuts[:-2] in ([(0.0, 5.0)], [(0.0, 0.5), (0.5, 5.0)])  # the inset may cut once before it is learnt


def test_slide_shown_again_reuses_its_reading() -> None:
    tracker = track(stream([(blocks(1), 4.0), (blocks(2), 4.0), (blocks(1), 4.0)]))
    assert [s.repeat_of for s in tracker.scenes] == [None, None, 0]
    assert [s.read for s in tracker.scenes] == [True, True, False]


def test_short_transition_is_not_read_unless_in_the_title_window() -> None:
    frames = stream([(blocks(1), 4.0), (blocks(9), 0.5), (blocks(2), 4.0)])
    assert [s.read for s in track(frames).scenes] == [True, False, True]
    eager = track(frames, eager_s=8.0).scenes  # also cut at the window's end (a 0.5 s tail, not read)
    assert [(s.read, s.end_s) for s in eager] == [(True, 4.0), (True, 4.5), (True, 8.0), (False, 8.5)]


def test_live_video_is_read_every_max_scene_s() -> None:
    rng = np.random.default_rng(3)
    frames = [Frame(i, i / 2.0, rng.integers(0, 255, (360, 640), dtype=np.uint8)) for i in range(60)]
    tracker = track(frames)
    assert all(s.duration_s <= CFG.slides.max_scene_s for s in tracker.scenes)
    assert sum(s.read for s in tracker.scenes) == 3


def test_small_change_in_a_corner_is_a_new_scene() -> None:
    changed = blocks(1).copy()
    changed[300:330, 420:600] = 30  # a footer line appears (a phone number, say)
    tracker = track(stream([(blocks(1), 4.0), (changed, 4.0)]))
    assert len(tracker.scenes) == 2 and tracker.scenes[1].repeat_of is None


def test_persistent_mark_is_found_and_a_single_static_slide_is_not() -> None:
    mark = picture([("录屏大师", 1600, 30, 40, SANS)])[20:90, 1580:1800]
    edges = EdgePersistence(CFG.watermark, 1.0)
    pictures = []
    for seed in range(6):
        img = np.kron(blocks(seed), np.ones((3, 3), np.uint8))
        img[20:90, 1580:1800] = mark
        pictures.append(img)
        edges.add(img, 5.0)
    found = edges.marks(np.zeros((180, 320), np.float32))
    assert len(found) == 1
    left, top, right, bottom = found[0].box
    assert 1560 <= left <= 1640 and top <= 60 and right >= 1750 and bottom <= 110
    assert consistency(pictures, found[0].box) > 0.8
    static = EdgePersistence(CFG.watermark, 1.0)
    static.add(pictures[0], 600.0)
    assert static.marks(np.zeros((180, 320), np.float32)) == []


def test_changing_text_at_one_place_is_not_consistent() -> None:
    titles = ["认识几分之一", "比较大小", "分数的简单计算", "练习与小结"]
    pictures = [picture([(t, 700, 100, 72, SANS)]) for t in titles]
    assert consistency(pictures, (690, 100, 1250, 190)) < CFG.watermark.min_consistency


def test_reader_normalises_line_sizes() -> None:
    gray = picture([("分数的初步认识", 500, 60, 120, SANS), ("把一个物体平均分成两份", 160, 330, 44, SERIF),
                    ("咨询电话：13812345678 www.abc-edu.cn", 60, 1030, 22, SANS)])
    texts = [line.text.replace(" ", "") for line in Reader(CFG.ocr).read(gray)]
    assert "分数的初步认识" in texts and "把一个物体平均分成两份" in texts
    assert any("13812345678" in t and "abc-edu.cn" in t for t in texts)


@pytest.mark.parametrize("font", [SANS, SERIF])
def test_traditional_glyphs_are_told_from_simplified(font: str) -> None:
    reader = FrameReader(CFG)
    trad = picture([("學習目標：認識幾分之一，會讀寫分數", 160, 200, 48, font), ("體積 實驗 觀察 比較大小", 160, 330, 48, font)])
    simp = picture([("学习目标：认识几分之一，会读写分数", 160, 200, 48, font), ("体积 实验 观察 比较大小", 160, 330, 48, font)])
    found = reader.read(trad).traditional
    assert found is not None and {"學", "習", "體", "實", "驗"} <= set(found.chars)
    assert reader.read(simp).traditional is None


def test_english_and_japanese_lines_are_not_traditional() -> None:
    gray = picture([("Unit 3 My School Day", 160, 200, 48, SANS), ("これは日本語の文章です。學校", 160, 330, 48, SANS)])
    assert FrameReader(CFG).read(gray).traditional is None


def test_qr_codes_anywhere_with_payloads() -> None:
    img = Image.fromarray(picture([("扫一扫", 160, 100, 48, SANS)]))
    for payload, side, xy in (("https://example.com/a", 300, (1400, 600)), ("weixin://abc", 150, (200, 800))):
        img.paste(qrcode.make(payload, border=2).get_image().convert("L").resize((side, side)), xy)
    codes = find_codes(np.asarray(img))
    assert sorted(c.payload for c in codes) == ["https://example.com/a", "weixin://abc"]


def test_engine_loads_once_per_process() -> None:
    assert engine.engine(CFG.ocr) is engine.engine(CFG.ocr)
    assert engine.version() == "1.4.4"


def _ctx(duration_s: float) -> stages.StageContext:
    video = VideoInfo("h264", 1920, 1080, "16:9", 25.0, False, None, "yuv420p", "progressive")
    return stages.StageContext(Path("x.mp4"), Media("mp4", duration_s, 1, None, video, None), PROFILE, Path("."))


def _mark(start: float, end: float, box: list[int]) -> Finding:
    return Finding("text.watermark", "review", "m", start, end, {"box": box, "text": ""})


def test_watermarks_join_across_segments_and_partial_ones_drop() -> None:
    parts = [_mark(0, 300, [1500, 20, 1800, 80]), _mark(300, 600, [1504, 22, 1802, 80]), _mark(600, 900, [1500, 20, 1800, 82])]
    assert [(f.start_s, f.end_s) for f in merge_watermarks(parts, _ctx(900))] == [(0, 900)]
    assert merge_watermarks(parts[:1], _ctx(900)) == []


def test_metrics_add_up() -> None:
    assert merge_metrics([{"ocr_frames": 3, "ocr_s": 1.5}, {"ocr_frames": 4, "ocr_s": 0.5}]) == {"ocr_frames": 7, "ocr_s": 2.0}


def test_scene_memory_is_bounded_on_a_video_that_cuts_every_second() -> None:
    cfg = dataclasses.replace(CFG.slides, max_read_scenes=5, repeat_window=3)
    tracker = SceneTracker(cfg, 2.0)
    for frame in stream([(blocks(i), 1.0) for i in range(12)]):
        tracker.add(frame)
    tracker.close(12.0)
    kept = [s for s in tracker.scenes if s.read]
    assert len(tracker.scenes) == 12 and len(kept) == 5 and tracker.unread == 7
    assert sum(1 for s in tracker.scenes if s.small.size) == 3  # only the repeat window keeps reduced copies
