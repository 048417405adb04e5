"""The lab stage: shots, lab.shaky / lab.blurry / lab.exposure / lab.static, contact sheet, merge.

Clips are generated with ffmpeg from drawn bench scenes (testmedia/lab.py), 960x540 at 10 fps;
exact codes and time ranges within TOL seconds are asserted.
"""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipelines import registry
from pipelines.lab import camera
from pipelines import check, plan
from pipelines.lab import contact_sheet
from pipelines.lab import track
from pipelines import profile as profiles
from pipelines import stages
from pipelines.frames import Frame
from pipelines.lab.stage import LabConsumer, LabStage
from pipelines.media.probe import probe
from pipelines.domain import Media, StageOutput, VideoInfo
from pipelines.lab.shots import ShotRules, cut_indices
from testmedia import cached
from testmedia import lab as labmedia
from testmedia.base import SANS
from testmedia.lab import Scene, pink_noise

TOL = 1.0
W, H, FPS = 960, 540, 10
LAB_CODES = {"lab.shaky", "lab.blurry", "lab.exposure", "lab.static"}


@pytest.fixture(scope="module")
def lab_profile() -> profiles.Profile:
    return profiles.load("lab")


@pytest.fixture(scope="module")
def pictures(media_cache: Path) -> tuple[Path, Path]:
    """Two bench scenes: A with the default margin, B wide enough to pan across."""
    a = cached(media_cache, "lab-A.png", labmedia.draw_scene, W, H, 1, "实验一：酸碱中和")
    b = cached(media_cache, "lab-B.png", labmedia.draw_scene, W, H, 2, "实验二：光的折射", margin=200)
    return a, b


def _scenes(name: str, a: Path, b: Path) -> list[Scene]:
    steady_a, steady_b = labmedia.steady(W, H), labmedia.steady(W, H, 200)
    return {
        "two_shot": [Scene(a, 12, steady_a, person=True), Scene(b, 12, labmedia.panned(W, H, 12, 200))],
        "shaky": [Scene(a, 20, labmedia.shaken(W, H, 6, 14), person=True), Scene(b, 6, steady_b)],
        "blurry": [Scene(a, 10, steady_a, person=True),
                   Scene(b, 14, steady_b, "gblur=sigma=10:enable='between(t,3,10)'")],
        "exposure": [Scene(a, 14, steady_a, "lutyuv=y='16+(val-16)*0.3':enable='between(t,3,9)'", person=True),
                     Scene(b, 12, steady_b, "lutyuv=y='min(235,16+(val-16)*1.5+95)':enable='between(t,3,9)'")],
        "static": [Scene(a, 20, steady_a, person=True)],
        "zoom": [Scene(a, 20, steady_a, labmedia.zooming(W, H, 6, 14, FPS), person=True)],
    }[name]


@pytest.fixture(scope="module")
def clip(media_cache: Path, pictures: tuple[Path, Path]):
    """Path of a named clip, generated once per spec."""
    def make(name: str) -> Path:
        return cached(media_cache, f"lab-{name}.mp4", labmedia.clip, _scenes(name, *pictures), FPS)
    return make


def _ctx(path: Path, prof: profiles.Profile, workdir: Path, start_s: float = 0.0,
         duration_s: float | None = None) -> stages.StageContext:
    return stages.StageContext(path, probe(path, prof).media, prof, workdir, start_s, duration_s)


def _run(path: Path, prof: profiles.Profile, workdir: Path) -> StageOutput:
    return plan.run_segment(LabStage(), _ctx(path, prof, workdir))


def _codes(out: StageOutput) -> set[str]:
    return {f.code for f in out.findings}


def _span(out: StageOutput, code: str) -> list[tuple[float, float]]:
    return [(f.start_s, f.end_s) for f in out.findings if f.code == code]


def _near(span: tuple[float, float], start: float, end: float) -> bool:
    return abs(span[0] - start) <= TOL and abs(span[1] - end) <= TOL


# --- generated recordings -------------------------------------------------------------------

def test_steady_two_shot_recording_raises_nothing(clip, lab_profile, tmp_path):
    out = _run(clip("two_shot"), lab_profile, tmp_path)
    assert _codes(out) == set()
    shots = out.metrics["shots"]
    assert len(shots) == 2 and abs(shots[1]["start_s"] - 12.0) <= 0.5
    assert out.metrics["moving_s"] > 4  # the second shot pans: that is camera work, not shake
    sheet = Path(out.artifacts["contact_sheet"])
    assert sheet.is_file() and cv2.imread(str(sheet)).shape[1] > 2 * lab_profile.lab.sheet.tile_width


def test_shaken_segment_is_shaky(clip, lab_profile, tmp_path):
    out = _run(clip("shaky"), lab_profile, tmp_path)
    assert _codes(out) == {"lab.shaky"}
    [span] = _span(out, "lab.shaky")
    assert _near(span, 6.0, 14.0)
    assert out.metrics["shot_count"] == 2


def test_blurred_segment_is_blurry(clip, lab_profile, tmp_path):
    out = _run(clip("blurry"), lab_profile, tmp_path)
    assert _codes(out) == {"lab.blurry"}
    [span] = _span(out, "lab.blurry")
    assert _near(span, 13.0, 20.0)


def test_dark_and_bright_segments_are_exposure(clip, lab_profile, tmp_path):
    out = _run(clip("exposure"), lab_profile, tmp_path)
    assert _codes(out) == {"lab.exposure"}
    found = {f.evidence["kind"]: (f.start_s, f.end_s) for f in out.findings}
    assert set(found) == {"under", "over"}
    assert _near(found["under"], 3.0, 9.0) and _near(found["over"], 17.0, 23.0)


def test_one_fixed_shot_is_static(clip, lab_profile, tmp_path):
    out = _run(clip("static"), lab_profile, tmp_path)
    assert _codes(out) == {"lab.static"}
    [finding] = out.findings
    assert finding.severity == "review" and _near((finding.start_s, finding.end_s), 0.0, 20.0)


def test_one_shot_that_zooms_in_is_not_static(clip, lab_profile, tmp_path):
    out = _run(clip("zoom"), lab_profile, tmp_path)
    assert _codes(out) == set()
    assert out.metrics["shot_count"] == 1 and out.metrics["moving_s"] > lab_profile.lab.static.max_moving_s


def test_segments_merge_to_the_whole_video_result(clip, lab_profile, tmp_path):
    path = clip("shaky")
    whole = _run(path, lab_profile, tmp_path / "whole")
    parts = [plan.run_segment(LabStage(), _ctx(path, lab_profile, tmp_path / "parts", s, d))
             for s, d in ((10.0, None), (0.0, 10.0))]
    assert all("lab.shaky" in _codes(p) for p in parts)  # the shake spans the seam at 10 s
    merged = LabStage().merge(parts, _ctx(path, lab_profile, tmp_path / "merged"))
    assert [(f.code, f.start_s, f.end_s, f.evidence) for f in merged.findings] == \
        [(f.code, f.start_s, f.end_s, f.evidence) for f in whole.findings]
    assert merged.metrics == whole.metrics
    assert Path(merged.artifacts["contact_sheet"]).is_file()


def test_check_embeds_contact_sheet_in_report(clip, lab_profile, tmp_path):
    report = check.check(clip("two_shot"), lab_profile, tmp_path / "out")
    assert report.stages["lab"].status == "ok"
    assert not LAB_CODES & {f.code for f in report.findings}
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "lab_contact_sheet.jpg" in html and "data:image/jpeg;base64" in html


# --- units (no ffmpeg) -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic_frames() -> list[Frame]:
    """A two-shot stream: a textured view (steady, then shaken, then panning) and a cut to another."""
    rng = np.random.default_rng(7)
    big = [(pink_noise(W + 200, H + 200, seed) * 200 + 30).astype(np.uint8) for seed in (3, 4)]
    frames = []
    for i in range(80):
        x, y = (100, 100) if i < 20 else (int(rng.integers(70, 131)), int(rng.integers(70, 131)))
        if i >= 40:
            x, y = 20 + 3 * (i - 40), 100
        picture = big[0] if i < 60 else big[1]
        frames.append(Frame(i, i * 0.5, np.ascontiguousarray(picture[y:y + H, x:x + W])))
    return frames


def _consume(frames: list[Frame], ctx: stages.StageContext) -> StageOutput:
    consumer = LabStage().consumer(ctx)
    for frame in frames:
        consumer.consume(frame)
    return consumer.finish()


def _fake_ctx(prof: profiles.Profile, workdir: Path, start_s: float = 0.0,
              duration_s: float | None = None) -> stages.StageContext:
    video = VideoInfo("h264", W, H, "16:9", 2.0, False, None, "yuv420p", "progressive")
    media = Media("mp4", 40.0, 1, None, video, None)
    workdir.mkdir(parents=True, exist_ok=True)
    return stages.StageContext(Path("synthetic.mp4"), media, prof, workdir, start_s, duration_s)


@pytest.mark.parametrize("seams", [(13,), (25, 41), (30, 60, 61)])
def test_merge_of_any_split_equals_whole_track(synthetic_frames, lab_profile, tmp_path, seams):
    whole = _consume(synthetic_frames, _fake_ctx(lab_profile, tmp_path / "whole"))
    bounds = [0, *seams, len(synthetic_frames)]
    parts = [_consume(synthetic_frames[a:b], _fake_ctx(lab_profile, tmp_path / f"p{a}", a * 0.5, (b - a) * 0.5))
             for a, b in zip(bounds[:-1], bounds[1:])]
    merged = LabStage().merge(parts[::-1], _fake_ctx(lab_profile, tmp_path / "merged"))
    assert {f.code for f in whole.findings} == {"lab.shaky"} and whole.metrics["shot_count"] == 2
    assert [vars(f) for f in merged.findings] == [vars(f) for f in whole.findings]
    assert merged.metrics == whole.metrics
    a, b = (track.load(Path(o.artifacts["lab_track"])) for o in (whole, merged))
    for name in a.columns:
        np.testing.assert_array_equal(a.array(name), b.array(name))
    assert sorted(a.tiles) == sorted(b.tiles)


def test_lab_consumer_is_cheap_per_frame(synthetic_frames, lab_profile, tmp_path):
    consumer = LabConsumer(_fake_ctx(lab_profile, tmp_path), 0.5)
    started = time.perf_counter()
    for frame in synthetic_frames:
        consumer.consume(frame)
    assert (time.perf_counter() - started) / len(synthetic_frames) < 0.02


def _slide(background: int, ink: int) -> np.ndarray:
    """A projected slide: a plain background with lines of text (Pillow, CJK font)."""
    img = Image.new("L", (W, H), background)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(SANS, 40)
    for row in range(5):
        draw.text((80, 60 + row * 90), "实验步骤：将酚酞滴入氢氧化钠溶液", font=font, fill=ink)
    return np.asarray(img)


def _teacher_close_up() -> np.ndarray:
    picture = (pink_noise(W, H, 9) * 160 + 60).astype(np.uint8)
    picture[:, : W * 3 // 5] = 8  # a dark-clothed teacher fills 60 % of the picture
    return picture


@pytest.mark.parametrize("picture", [_slide(255, 20), _slide(12, 250), _teacher_close_up()],
                         ids=["white-slide", "dark-slide", "dark-clothed-teacher"])
def test_well_exposed_pictures_are_not_exposure_faults(picture, lab_profile, tmp_path):
    frames = [Frame(i, i * 0.5, picture) for i in range(20)]
    out = _consume(frames, _fake_ctx(lab_profile, tmp_path))
    assert {f.code for f in out.findings} == {"lab.static"}


def test_empty_and_tiny_streams_give_no_findings(lab_profile, tmp_path):
    empty = _consume([], _fake_ctx(lab_profile, tmp_path / "empty"))
    assert empty.findings == [] and empty.metrics["shot_count"] == 0 and "contact_sheet" not in empty.artifacts
    tiny = [Frame(i, i * 0.5, np.full((8, 14), 60 + (i % 3), np.uint8)) for i in range(30)]
    out = _consume(tiny, _fake_ctx(lab_profile, tmp_path / "tiny"))
    assert {f.code for f in out.findings} <= {"lab.static"} and out.metrics["shot_count"] == 1


def test_motion_measures_translation_and_zoom():
    base = (pink_noise(480, 300, 11) * 255).astype(np.uint8)
    a = camera.prepare(base[30:210, 40:360])
    b = camera.prepare(base[30 + 4:210 + 4, 40 - 6:360 - 6])  # the camera moved: content goes right 6, up 4
    m = camera.motion(a, b, flat_std=6.0)
    assert abs(m.dx - 6) < 0.5 and abs(m.dy + 4) < 0.5 and m.response > 0.3 and m.cut < 0.1
    again = camera.motion(a, b, flat_std=6.0)
    assert again == m  # preparing is deterministic and nothing mutates the prepared frames
    zoomed = cv2.resize(base[30 + 9:210 - 9, 40 + 16:360 - 16], (320, 180), interpolation=cv2.INTER_AREA)
    assert camera.motion(a, camera.prepare(zoomed), flat_std=6.0).zoom > 0.05


def test_sharpness_falls_with_blur_whatever_the_contrast():
    base = (pink_noise(320, 180, 5) * 255).astype(np.uint8)
    sharp = camera.sharpness(base)
    soft = camera.sharpness(cv2.GaussianBlur(base, (0, 0), 3))
    faint = camera.sharpness((base * 0.3).astype(np.uint8))
    assert soft < 0.3 < sharp and abs(faint - sharp) / sharp < 0.5


def test_adaptive_cut_ignores_steady_busy_motion():
    rules = ShotRules(min_score=0.35, adaptive_ratio=2.5, window=3, min_shot_s=1.0)
    times = np.arange(20) * 0.5
    busy = np.full(20, 0.45)
    busy[0] = np.nan
    assert cut_indices(busy, times, rules) == []
    busy[10] = 1.0
    assert cut_indices(busy, times, rules) == []  # 1.0 is not 2.5x its busy neighbours
    calm = np.where(np.arange(20) == 10, 0.9, 0.05)
    assert cut_indices(calm, times, rules) == [10]


def test_contact_sheet_grid(tmp_path):
    tiles = [contact_sheet.Tile(t, np.full((90, 160), 40 * i, np.uint8), f"镜头 {i} · {contact_sheet.clock(t)}")
             for i, t in enumerate((0, 75, 3725))]
    path = contact_sheet.write(tiles, tmp_path / "sheet.jpg", "标题", columns=2, tile_width=160, quality=80)
    image = cv2.imread(str(path))
    assert image.shape[1] == 2 * (160 + contact_sheet.GAP) + contact_sheet.GAP and image.shape[0] > 2 * 90
    assert [contact_sheet.clock(t) for t in (75, 3725)] == ["1:15", "1:02:05"]


def test_lab_stage_runs_only_for_the_lab_profile(lab_profile):
    stage = registry.all_stages()["lab"]
    media = None
    assert stage.enabled(lab_profile, media)
    assert not stage.enabled(profiles.load("micro-primary"), media)
