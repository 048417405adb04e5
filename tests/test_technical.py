"""tech.* and signal.* rules on real generated media: exact code, and time range within ±0.5 s."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines import profile as profiles
from pipelines.check import check
from testmedia import cached, clips
from testmedia.base import drawtext

TOL = 0.5
CLIPS = {
    # name: (clip kwargs, file suffix)
    "container": (dict(), ".mkv"),
    "video_codec": (dict(vcodec=["-c:v", "mpeg4", "-q:v", "3"]), ".mp4"),
    "resolution": (dict(size="1280x720"), ".mp4"),
    "aspect": (dict(size="1440x1080"), ".mp4"),
    "frame_rate": (dict(fps=30), ".mp4"),
    "vfr": (dict(video_tail="select='not(between(t\\,2\\,4))'", extra=["-fps_mode", "vfr"]), ".mp4"),
    "interlaced": (dict(fps=25, video_tail="tinterlace=mode=interleave_top,setfield=tff",
                        extra=["-flags", "+ildct+ilme"]), ".mp4"),
    "low_bitrate": (dict(vcodec=["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "300k"]), ".mp4"),
    "no_audio": (dict(audio=False), ".mp4"),
    "audio_codec": (dict(acodec=["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "48000"]), ".mp4"),
    "audio_bitrate": (dict(acodec=["-c:a", "aac", "-b:a", "32k", "-ar", "48000"]), ".mp4"),
    "sample_rate": (dict(acodec=["-c:a", "aac", "-b:a", "128k", "-ar", "22050"]), ".mp4"),
    "black": (dict(seconds=12, black_between=(4, 7)), ".mp4"),
    "frozen": (dict(seconds=14, still_between=(3, 10)), ".mp4"),
    "slides_only": (dict(seconds=20, still_between=(0, 20)), ".mp4"),
    "dark_slide": (dict(seconds=14, video_tail="drawbox=x=0:y=0:w=iw:h=ih:color=0x101010:t=fill,"
                        + drawtext("谢谢观看", size=36, color="white")), ".mp4"),
    "letterbox": (dict(video_tail="scale=640:240,pad=640:360:0:60:black"), ".mp4"),
    "pillarbox": (dict(video_tail="scale=480:360,pad=640:360:80:0:black"), ".mp4"),
    "silence": (dict(seconds=26, audio_tail="volume=enable='between(t,4,22)':volume=0"), ".mp4"),
    "clipping": (dict(seconds=10, audio_tail="aformat=sample_fmts=s16,volume=enable='between(t,3,6)':volume=25dB:precision=fixed"), ".mp4"),
    "quiet": (dict(audio_tail="volume=-30dB"), ".mp4"),
    # SPEC defaults: a 6-s freeze of the whole picture; 8.5 s of room tone (no speech, above digital
    # silence); 10.5 s of music instead of speech
    "frozen_6s": (dict(seconds=16, still_between=(5, 11)), ".mp4"),
    "room_tone": (dict(seconds=24, audio_tail="volume=enable='between(t,8,16.5)':volume=0,aeval=exprs="
                       "'val(0)+if(between(t,8,16.5),0.02*(random(0)-0.5)+0.002*sin(2*PI*50*t),0)':c=same"), ".mp4"),
    "music_gap": (dict(seconds=24, audio_tail="volume=enable='between(t,8,18.5)':volume=0,aeval=exprs="
                       "'val(0)+if(between(t,8,18.5),0.05*sin(2*PI*(330+110*floor(mod(2*t,4)))*t)"
                       "+0.03*sin(2*PI*165*t),0)':c=same"), ".mp4"),
}


@pytest.fixture(scope="session")
def make(media_cache: Path):
    """Generate (once per cache) the named clip and return its path."""
    def _make(name: str) -> Path:
        kwargs, suffix = CLIPS[name]
        return cached(media_cache, f"tech-{name}{suffix}", clips.clip, **({"seconds": 8.0} | kwargs))
    return _make


@pytest.fixture(scope="session")
def short_profile(tmp_path_factory) -> profiles.Profile:
    """micro-primary with thresholds scaled to seconds-long clips (a still picture of 5 s in live video)."""
    path = tmp_path_factory.mktemp("profiles") / "short.yaml"
    path.write_text(yaml.safe_dump({"name": "short-test", "signal": {"frozen": {"live_min_s": 5.0}}}), encoding="utf-8")
    return profiles.load(path)


NO_SPEECH = frozenset({"speech"})  # tech.* and signal.* (dead air included) never read the speech stage


def run(path: Path, profile: profiles.Profile, tmp_path: Path):
    return check(path, profile, tmp_path / "out", skip=NO_SPEECH)


def codes(report) -> dict[str, list]:
    found: dict[str, list] = {}
    for f in report.findings:
        found.setdefault(f.code, []).append(f)
    return found


@pytest.mark.parametrize("name, code, severity", [
    ("container", "tech.container", "fail"),
    ("video_codec", "tech.video_codec", "fail"),
    ("resolution", "tech.resolution", "fail"),
    ("aspect", "tech.aspect_ratio", "fail"),
    ("frame_rate", "tech.frame_rate", "fail"),
    ("vfr", "tech.vfr", "fail"),
    ("interlaced", "tech.interlaced", "fail"),
    ("low_bitrate", "tech.video_bitrate", "review"),
    ("no_audio", "tech.no_audio", "fail"),
    ("audio_codec", "tech.audio_codec", "fail"),
    ("audio_bitrate", "tech.audio_bitrate", "review"),
    ("sample_rate", "tech.audio_sample_rate", "review"),
])
def test_tech_rule(make, short_profile, tmp_path, name, code, severity):
    report = run(make(name), short_profile, tmp_path)
    found = codes(report)
    assert code in found, f"{code} missing; got {sorted(found)}"
    assert found[code][0].severity == severity
    assert "value" in found[code][0].evidence and "limit" in found[code][0].evidence


def test_tech_rules_quiet_on_neighbours(make, short_profile, tmp_path):
    """A 720p clip is a resolution problem, not an aspect, codec, rate or scan problem."""
    found = codes(run(make("resolution"), short_profile, tmp_path))
    for code in ("tech.aspect_ratio", "tech.video_codec", "tech.frame_rate", "tech.vfr", "tech.interlaced", "tech.container"):
        assert code not in found


@pytest.mark.parametrize("name, code, start, end", [
    ("black", "signal.black", 4.0, 7.0),
    ("frozen", "signal.frozen", 3.0, 10.0),
    ("letterbox", "signal.letterbox", 0.0, 8.0),
    ("pillarbox", "signal.letterbox", 0.0, 8.0),
    ("silence", "signal.silence", 4.0, 22.0),   # 18 s of digital silence: review (fail from 20 s)
    ("clipping", "signal.clipping", 3.0, 6.0),
])
def test_timed_signal_rule(make, short_profile, tmp_path, name, code, start, end):
    found = codes(run(make(name), short_profile, tmp_path))
    assert code in found, f"{code} missing; got {sorted(found)}"
    assert len(found[code]) == 1
    f = found[code][0]
    assert abs(f.start_s - start) <= TOL and abs(f.end_s - end) <= TOL, (f.start_s, f.end_s)
    assert f.evidence.get("thumbnail"), "timed findings carry a thumbnail"


@pytest.mark.parametrize("name, code, start, end", [
    ("frozen_6s", "signal.frozen", 5.0, 11.0),
    ("room_tone", "signal.silence", 8.0, 16.5),
])
def test_spec_default_thresholds(make, tmp_path, name, code, start, end):
    """With micro-primary's own thresholds: a 5-s freeze in moving video, 8 s of dead air (room tone) are review."""
    found = codes(run(make(name), profiles.load("micro-primary"), tmp_path))
    assert [(f.severity, round(f.start_s), round(f.end_s)) for f in found.get(code, [])] \
        and len(found[code]) == 1, sorted(found)
    f = found[code][0]
    assert f.severity == "review" and abs(f.start_s - start) <= TOL and abs(f.end_s - end) <= TOL, (f.start_s, f.end_s)


def test_music_is_not_dead_air(make, tmp_path):
    found = codes(run(make("music_gap"), profiles.load("micro-primary"), tmp_path))
    assert "signal.silence" not in found, [(f.start_s, f.end_s, f.message) for f in found["signal.silence"]]
    assert not {c for c, fs in found.items() if c.startswith("signal.") and any(f.severity != "info" for f in fs)}


def test_loudness_too_quiet_fails(make, short_profile, tmp_path):
    report = run(make("quiet"), short_profile, tmp_path)
    (finding,) = codes(report)["signal.loudness"]
    assert finding.severity == "fail" and finding.evidence["value"] < -40
    assert report.metrics["signal"]["loudness_lufs"] == finding.evidence["value"]


def test_decode_errors(make, short_profile, tmp_path, media_cache):
    src = cached(media_cache, "tech-damaged-src.mp4", clips.clip, 8.0, extra=["-movflags", "+faststart"],
                 vcodec=["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18"])
    damaged = cached(media_cache, "tech-damaged.mp4", clips.damaged, src)
    found = codes(run(damaged, short_profile, tmp_path))
    assert "signal.decode_errors" in found
    assert found["signal.decode_errors"][0].evidence["count"] >= 1


def test_clean_signal_clips_raise_no_signal_findings(make, short_profile, tmp_path):
    """The faults above are specific: a clip with only a black stretch has no other signal.* finding."""
    found = codes(run(make("black"), short_profile, tmp_path))
    assert [c for c in found if c.startswith("signal.")] == ["signal.black"]


def test_file_size_rule(make, tmp_path):
    """A file over the profile's size limit (1 MB here, 1 GB in the built-in profiles)."""
    user = tmp_path / "small-files.yaml"
    user.write_text(yaml.safe_dump({"name": "small-files", "file": {"max_size_bytes": 1_000_000}}), encoding="utf-8")
    clip = make("black")
    (finding,) = codes(run(clip, profiles.load(user), tmp_path))["tech.file_size"]
    assert finding.severity == "fail"
    assert finding.evidence == {"value": clip.stat().st_size, "limit": 1_000_000}


def test_duration_rule_reports_range(make, short_profile, tmp_path):
    (finding,) = codes(run(make("black"), short_profile, tmp_path))["tech.duration"]
    assert finding.severity == "fail" and finding.evidence["limit"] == [600, 900]
    assert abs(finding.evidence["value"] - 12.0) < 0.1


def test_still_slides_are_not_a_frozen_picture(make, short_profile, tmp_path):
    """A PPT lesson with no moving element is still all the time: that is a slide, not a fault."""
    report = run(make("slides_only"), short_profile, tmp_path)
    assert "signal.frozen" not in codes(report)
    assert report.metrics["signal"]["frozen_s"] > 15


def test_dark_slide_with_a_short_title_is_neither_black_nor_letterboxed(make, short_profile, tmp_path):
    """An end card: white '谢谢观看' on near-black for 14 s (well over the 10 s that would fail a black screen)."""
    found = codes(run(make("dark_slide"), short_profile, tmp_path))
    assert "signal.black" not in found and "signal.letterbox" not in found


def test_portrait_phone_video_is_judged_as_shown(make, short_profile, tmp_path, media_cache):
    """A 640x360 recording flagged to display a quarter turn is a 360x640 portrait video."""
    rotated = cached(media_cache, "tech-rotated.mp4", clips.rotated, make("black"))
    report = run(rotated, short_profile, tmp_path)
    found = codes(report)
    assert found["tech.resolution"][0].evidence["value"] == "360x640"
    assert found["tech.aspect_ratio"][0].evidence["value"] == "9:16"
    (black,) = found["signal.black"]  # the picture is still analysed, at its shown size
    assert abs(black.start_s - 4.0) <= TOL and abs(black.end_s - 7.0) <= TOL
    assert report.stages["signal"].status == "ok"
