"""Bad input never crashes: verdict error, finding input.unreadable, clear message, exit code 3, no traceback."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines import profile as profiles
from pipelines.check import check
from testmedia import cached, clips
from testmedia.base import DATA, ffmpeg


@pytest.fixture(scope="session")
def good_clip(media_cache: Path) -> Path:
    return cached(media_cache, "bad-source.mp4", clips.clip, 6.0)


def _truncate(src: Path, dest: Path, keep: float) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


def make_bad(kind: str, tmp: Path, good: Path, cache: Path) -> Path:
    """Create one kind of bad input under `tmp` and return its path."""
    if kind == "missing":
        return tmp / "no-such-lesson.mp4"
    if kind == "directory":
        (tmp / "folder.mp4").mkdir()
        return tmp / "folder.mp4"
    if kind == "empty":
        (tmp / "empty.mp4").write_bytes(b"")
        return tmp / "empty.mp4"
    if kind == "text":
        (tmp / "notes.mp4").write_text("这不是视频，只是文本。\n" * 50, encoding="utf-8")
        return tmp / "notes.mp4"
    if kind == "truncated_moov_at_end":
        return _truncate(good, tmp / "truncated.mp4", 0.5)
    if kind == "truncated_faststart":
        src = cached(cache, "bad-faststart.mp4", clips.clip, 12.0, extra=["-movflags", "+faststart"])
        return _truncate(src, tmp / "truncated-fs.mp4", 0.4)
    if kind == "audio_only":
        out = tmp / "audio.mp4"
        ffmpeg("-i", str(DATA / "zh_lesson_fraction_1.flac"), "-c:a", "aac", str(out))
        return out
    if kind == "still_image":
        out = tmp / "slide.png"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360", "-frames:v", "1", str(out))
        renamed = tmp / "slide.mp4"
        out.rename(renamed)
        return renamed
    if kind == "absurd_dimensions":
        out = tmp / "huge.mp4"
        ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=8192x64:r=25:d=0.2", "-c:v", "libx264", "-preset", "ultrafast", str(out))
        return out
    raise ValueError(kind)


BAD_KINDS = ["missing", "directory", "empty", "text", "truncated_moov_at_end", "truncated_faststart",
             "audio_only", "still_image", "absurd_dimensions"]
EXPECTED_WORDS = {"missing": "not found", "directory": "not a regular file", "empty": "empty", "text": "not a readable",
                  "truncated_moov_at_end": "not a readable", "truncated_faststart": "truncated",
                  "audio_only": "audio-only", "still_image": "still image", "absurd_dimensions": "safety limits"}
NO_SPEECH = frozenset({"speech"})  # probe and decode find these faults; speech would only transcribe the readable part


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_input_gives_error_report(kind, tmp_path, good_clip, media_cache):
    path = make_bad(kind, tmp_path, good_clip, media_cache)
    report = check(path, profiles.load("micro-primary"), tmp_path / "out", skip=NO_SPEECH)
    assert report.verdict == "error"
    (finding,) = [f for f in report.findings if f.code == "input.unreadable"]
    assert EXPECTED_WORDS[kind] in finding.message
    doc = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert doc["verdict"] == "error" and doc["findings"][0]["code"] == "input.unreadable"


def test_duration_over_the_server_s_safety_limit_is_refused_before_decoding(tmp_path, good_clip, monkeypatch):
    server = tmp_path / "server.yaml"
    server.write_text(yaml.safe_dump({"safety": {"max_duration_s": 3}}), encoding="utf-8")
    monkeypatch.setenv("LESSONQC_SERVER_CONFIG", str(server))
    report = check(good_clip, profiles.load("micro-primary"), tmp_path / "out")
    assert report.verdict == "error"
    assert "duration" in report.findings[0].message and "safety" in report.findings[0].message
    assert "signal" not in report.stages, "nothing decodes an input over the safety limits"


def test_a_profile_cannot_set_or_lift_the_safety_limits(tmp_path):
    user = tmp_path / "lift.yaml"
    user.write_text(yaml.safe_dump({"name": "lift", "safety": {"max_duration_s": 10 ** 9}}), encoding="utf-8")
    with pytest.raises(profiles.ProfileError, match="unknown key 'safety'"):
        profiles.load(user)


@pytest.mark.parametrize("kind", ["missing", "text", "truncated_moov_at_end"])
def test_cli_exit_code_and_no_traceback(kind, tmp_path, good_clip, media_cache):
    path = make_bad(kind, tmp_path, good_clip, media_cache)
    proc = subprocess.run([sys.executable, "-m", "cli", "check", str(path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "ERROR" in proc.stdout and "input.unreadable" in proc.stdout
