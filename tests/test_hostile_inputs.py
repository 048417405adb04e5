"""Hostile and odd inputs: confinement by content, server-only limits, inputs a platform really sends.

Every case runs the real `check` on media generated here (short clips, a few seconds each).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from pipelines import profile as profiles
from pipelines.check import check
from pipelines.frames import FrameSpec
from pipelines.media import decode
from pipelines.media.source import opened
from pipelines.errors import InputUnreadable, MediaPathRefused, ToolError
from testmedia.base import ffmpeg

SPINE = frozenset({"speech", "onscreen", "lab"})  # these cases are about probe and signal


@pytest.fixture(scope="module")
def profile():
    return profiles.load("micro-primary")


@pytest.fixture(scope="session")
def secret(tmp_path_factory) -> Path:
    """A real video outside the media root: nothing may read it through a file inside."""
    out = tmp_path_factory.mktemp("outside") / "secret.ts"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3", "-c:v", "libx264", "-preset", "ultrafast", out)
    return out


def _run(path: Path, tmp: Path, profile, roots=()):
    report = check(path, profile, tmp / "out", skip=SPINE, roots=tuple(roots))
    return report, {f.code: f for f in report.findings}


def test_an_hls_playlist_named_mp4_is_refused_without_reading_its_segment(tmp_path, profile, secret):
    root = tmp_path / "root"
    root.mkdir()
    (root / "lesson.mp4").write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\n{secret}\n#EXT-X-ENDLIST\n")
    before = secret.stat().st_atime_ns
    report, found = _run(root / "lesson.mp4", tmp_path, profile, [root])
    assert report.verdict == "error" and "container format not allowed: hls" in found["input.unreadable"].message
    assert secret.stat().st_atime_ns == before


def test_a_concat_list_named_mp4_is_refused(tmp_path, profile, secret):
    (tmp_path / "list.mp4").write_text(f"ffconcat version 1.0\nfile '{secret}'\n")
    report, found = _run(tmp_path / "list.mp4", tmp_path, profile)
    assert report.verdict == "error" and "container format not allowed: concat" in found["input.unreadable"].message


def test_a_symlink_out_of_the_root_is_refused_by_the_embedded_check(tmp_path, profile, secret):
    root = tmp_path / "root"
    root.mkdir()
    (root / "escape.mp4").symlink_to(secret)
    report, found = _run(root / "escape.mp4", tmp_path, profile, [root])
    assert report.verdict == "error" and "outside the media roots" in found["input.unreadable"].message


def test_the_opened_file_is_read_even_when_the_path_is_swapped_after_the_check(tmp_path, secret):
    good = tmp_path / "lesson.mp4"
    good.write_bytes(b"first file")
    with opened(good, [tmp_path]) as media:
        good.unlink()
        good.symlink_to(secret)  # planted after the check: the tools still read the first file
        assert media.read_bytes() == b"first file"
    with pytest.raises(MediaPathRefused):
        with opened(good, [tmp_path]):
            pass


def test_a_frame_stream_is_never_empty_and_an_empty_one_is_refused():
    assert FrameSpec(2.0, 1080).size_for(1, 360) == (2, 360)
    plan = decode.DecodePlan(Path("x"), frames=FrameSpec(2.0, 1080), source_size=(0, 0))
    plan.frames = type("Zero", (), {"size_for": lambda self, w, h: (0, 0), "fps": 2.0})()

    class Proc:
        stdout = None
    with pytest.raises(ToolError, match="cannot be read"):
        decode._pump_frames(Proc(), plan, decode.DecodeLog())


def test_a_one_pixel_wide_video_ends_with_a_report(tmp_path, profile):
    out = tmp_path / "onepx.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x360:r=25:d=2", "-vf", "scale=1:360", "-c:v", "ffv1", out)
    report, found = _run(out, tmp_path, profile)
    assert report.verdict == "error" and "invalid dimensions 1x360" in found["input.unreadable"].message


def test_a_streamed_webm_without_duration_is_measured_from_its_packets(tmp_path, profile):
    out = tmp_path / "recorder.webm"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4", "-f", "lavfi", "-i", "sine=d=4",
                    "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus", "-f", "webm",
                    "-live", "1", out)
    report, found = _run(out, tmp_path, profile)
    assert report.verdict != "error", found
    assert abs(report.media.duration_s - 4.0) <= 0.2 and report.stages["signal"].status == "ok"
    assert "signal.video_short" not in found


def test_a_video_stream_shorter_than_its_audio_is_signal_video_short(tmp_path, profile):
    out = tmp_path / "short-picture.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3", "-f", "lavfi", "-i", "sine=d=8",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", out)
    report, found = _run(out, tmp_path, profile)
    short = found["signal.video_short"]
    assert report.verdict == "fail" and abs(short.start_s - 3.0) <= 0.5 and abs(short.end_s - 8.0) <= 0.5
    assert "input.unreadable" not in found


def test_extra_audio_streams_are_a_review_and_cover_art_is_not_the_picture(tmp_path, profile):
    cover = tmp_path / "cover.jpg"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=320x320", "-frames:v", "1", cover)
    out = tmp_path / "cover-first.mkv"
    ffmpeg("-loop", "1", "-framerate", "1", "-t", "1", "-i", cover, "-f", "lavfi", "-i",
                    "testsrc2=s=320x180:r=25:d=4", "-f", "lavfi", "-i", "sine=d=4", "-f", "lavfi", "-i", "sine=f=220:d=4",
                    "-map", "0:v", "-map", "1:v", "-map", "2:a", "-map", "3:a", "-c:v:0", "mjpeg", "-frames:v:0", "1",
                    "-c:v:1", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", out)
    report, found = _run(out, tmp_path, profile)
    assert report.verdict != "error", found
    assert (report.media.video.codec, report.media.video.width, report.media.video.stream) == ("h264", 320, 1)
    assert found["tech.audio_streams"].severity == "review" and found["tech.audio_streams"].evidence["value"] == 2


def test_eight_k_at_240_fps_passes_each_limit_but_not_the_work_budget(tmp_path, profile, monkeypatch):
    out = tmp_path / "8k240.mkv"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=7680x4320:r=240:d=0.05", "-c:v", "libx264", "-preset",
                    "ultrafast", out)
    server = tmp_path / "server.yaml"  # the same budget over a short clip: 8K x 240 fps for 0.05 s
    server.write_text(yaml.safe_dump({"safety": {"max_pixel_frames": 1.0e8}}))
    monkeypatch.setenv("LESSONQC_SERVER_CONFIG", str(server))
    report, found = _run(out, tmp_path, profile)
    assert report.verdict == "error" and "decode work" in found["input.unreadable"].message


def test_too_many_streams_are_refused_before_decoding(tmp_path, profile):
    out = tmp_path / "streams.mkv"
    inputs = [a for _ in range(10) for a in ("-f", "lavfi", "-i", "sine=d=1")]
    maps = [a for i in range(10) for a in ("-map", f"{i + 1}:a")]
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=1", *inputs, "-map", "0:v", *maps,
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", out)
    report, found = _run(out, tmp_path, profile)
    assert report.verdict == "error" and "10 audio streams exceed 8" in found["input.unreadable"].message
    assert "signal" not in report.stages


def test_missing_and_fifo_inputs_are_unreadable_not_hung(tmp_path):
    os.mkfifo(tmp_path / "pipe.mp4")
    with pytest.raises(InputUnreadable, match="not a regular file"):
        with opened(tmp_path / "pipe.mp4"):
            pass
    with pytest.raises(InputUnreadable, match="not found"):
        with opened(tmp_path / "none.mp4"):
            pass
