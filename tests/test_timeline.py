"""Inputs whose streams do not start at 0 are judged on their own timeline (real generated media).

The same content is rewritten as capture devices and editors write it (MPEG-TS whose clock starts
at 1.4 s or 10 h or wraps past 2^33, an MP4 edit list, every stream or one stream starting late)
and checked: never truncated or short, the planted black picture and silence at their times from
the file's first frame, the content's duration, and nothing else than the MP4 control raised.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import plan, profile as profiles, registry
from pipelines.check import check
from pipelines.domain import StageOutput
from pipelines.errors import InputUnreadable
from pipelines.media import decode
from pipelines.media import probe as probe_mod
from pipelines.media.probe import probe
from pipelines.speech.windows import read_wav
from pipelines.stages import StageContext
from testmedia import cached, clips, timeline
from testmedia.base import LESSON_CLIPS
from testmedia.slides import SANS_BOLD, Slide, Text, Video, render

TOL = 0.5
NO_SPEECH = frozenset({"speech"})
SECONDS = 16.0
BLACK, SILENT = (5.0, 8.0), (9.0, 13.0)   # planted on the source's clock (picture, sound)
PLANTED = dict(seconds=SECONDS, black_between=BLACK, audio_tail=f"volume=enable='between(t,{SILENT[0]},{SILENT[1]})':volume=0")
CLEAN = dict(seconds=SECONDS)
OFFSET_CODES = {"signal.video_short", "input.unreadable", "signal.decode_errors"}


@dataclass(frozen=True)
class Variant:
    """A rewrite of the source: generator, its arguments, file suffix, and how far it moves the content."""

    make: Callable[..., Path]
    args: tuple[Any, ...]
    suffix: str
    shift_s: float = 0.0          # where the source's second 0 lands on the file's own timeline
    foreign: bool = False         # not MP4: tech.container besides the control's findings


VARIANTS = {
    "ts_1.4s": Variant(timeline.ts_capture, (1.4, 0.0), ".ts", foreign=True),
    "ts_muxdelay": Variant(timeline.ts_capture, (0.0, 1.4), ".ts", foreign=True),
    "ts_10h": Variant(timeline.ts_capture, (36000.0,), ".ts", foreign=True),
    "ts_pts_wrap": Variant(timeline.wrapped_ts, (6.5,), ".ts", foreign=True),
    "mp4_edit_list": Variant(timeline.edit_list, (2.3,), ".mp4", shift_s=-2.3),
    "mp4_late_start": Variant(timeline.late_start, (5.0,), ".mp4"),
    "mkv_10h": Variant(timeline.late_start, (36000.0,), ".mkv", foreign=True),
    "audio_late": Variant(timeline.late_stream, ("audio", 1.5), ".mp4"),
    "video_late": Variant(timeline.late_stream, ("video", 1.5), ".mp4"),
    "ts_10h_audio_late": Variant(timeline.late_stream, ("audio", 1.5, 36000.0), ".ts", foreign=True),
    "ts_10h_video_late": Variant(timeline.late_stream, ("video", 1.5, 36000.0), ".ts", foreign=True),
}


@pytest.fixture(scope="module")
def prof(tmp_path_factory) -> profiles.Profile:
    """micro-primary with dead air reported from 3 s (the planted silence is 4 s)."""
    path = tmp_path_factory.mktemp("profiles") / "timeline.yaml"
    path.write_text(yaml.safe_dump({"name": "timeline-test", "signal": {"silence": {"min_duration_s": 3.0}}}),
                    encoding="utf-8")
    return profiles.load(path)


@pytest.fixture(scope="module")
def sources(media_cache: Path) -> dict[str, Path]:
    return {"planted": cached(media_cache, "timeline-planted.mp4", clips.clip, **PLANTED),
            "clean": cached(media_cache, "timeline-clean.mp4", clips.clip, **CLEAN)}


def variant(media_cache: Path, src: Path, name: str) -> Path:
    v = VARIANTS[name]
    return cached(media_cache, f"{src.stem.rsplit('-', 1)[0]}-{name}{v.suffix}", v.make, src, *v.args)


def run(path: Path, prof: profiles.Profile, out: Path, skip: frozenset[str] = NO_SPEECH):
    return check(path, prof, out, skip=skip)


def by_code(report) -> dict[str, list]:
    found: dict[str, list] = {}
    for f in report.findings:
        found.setdefault(f.code, []).append(f)
    return found


def ffprobe(*args: str) -> str:
    return subprocess.run(["ffprobe", "-v", "error", *args], capture_output=True, text=True, check=True).stdout


def ffprobe_start(path: Path) -> float:
    return float(json.loads(ffprobe("-show_entries", "format=start_time", "-of", "json", str(path)))["format"]["start_time"])


@pytest.fixture(scope="module")
def controls(sources, prof, tmp_path_factory) -> dict[str, Any]:
    return {kind: run(path, prof, tmp_path_factory.mktemp(f"control-{kind}")) for kind, path in sources.items()}


def test_the_controls_start_at_zero_and_raise_only_what_was_planted(sources, controls) -> None:
    assert ffprobe_start(sources["planted"]) == 0.0
    planted = by_code(controls["planted"])
    assert [(round(f.start_s), round(f.end_s)) for f in planted["signal.black"]] == [BLACK]
    assert [(round(f.start_s), round(f.end_s)) for f in planted["signal.silence"]] == [SILENT]
    clean = by_code(controls["clean"])
    assert not [c for c in clean if c.startswith("signal.") or c.startswith("input.")], sorted(clean)


@pytest.mark.parametrize("name", VARIANTS)
def test_an_offset_file_is_judged_on_its_own_timeline(media_cache, sources, controls, prof, tmp_path, name) -> None:
    v = VARIANTS[name]
    path = variant(media_cache, sources["planted"], name)
    report = run(path, prof, tmp_path)
    found = by_code(report)
    assert report.verdict != "error" and not OFFSET_CODES & set(found), sorted(found)
    assert all("truncated" not in f.message for f in report.findings)
    expected = set(by_code(controls["planted"])) | ({"tech.container"} if v.foreign else set())
    assert set(found) == expected, sorted(found)
    assert abs(report.media.duration_s - (SECONDS + min(0.0, v.shift_s))) <= 0.1, report.media.duration_s
    for code, (start, end) in (("signal.black", BLACK), ("signal.silence", SILENT)):
        (f,) = found[code]
        assert abs(f.start_s - (start + v.shift_s)) <= TOL and abs(f.end_s - (end + v.shift_s)) <= TOL, \
            (code, f.start_s, f.end_s)


@pytest.mark.parametrize("name", VARIANTS)
def test_a_clean_offset_file_stays_clean(media_cache, sources, controls, prof, tmp_path, name) -> None:
    v = VARIANTS[name]
    report = run(variant(media_cache, sources["clean"], name), prof, tmp_path)
    expected = set(by_code(controls["clean"])) | ({"tech.container"} if v.foreign else set())
    assert set(by_code(report)) == expected, sorted(by_code(report))


@pytest.mark.parametrize("name, clock_s", [("ts_1.4s", 1.35), ("ts_muxdelay", 1.35), ("ts_10h", 36000.0),
                                           ("mp4_late_start", 4.95), ("mkv_10h", 35999.9),
                                           ("ts_10h_audio_late", 36000.0)])
def test_the_generated_files_really_start_late(media_cache, sources, name, clock_s) -> None:
    """Guard on the generator: the first frame is late on the container's clock."""
    assert ffprobe_start(variant(media_cache, sources["planted"], name)) >= clock_s


def test_the_generated_wrap_really_wraps(media_cache, sources) -> None:
    """Guard on the generator: the raw 33-bit PTS go back to 0 inside the file."""
    path = variant(media_cache, sources["planted"], "ts_pts_wrap")
    out = ffprobe("-correct_ts_overflow", "0", "-select_streams", "v", "-show_entries", "packet=pts_time",
                  "-of", "csv=p=0", str(path))
    times = [float(t.strip(",")) for t in out.split() if t.strip(",")]
    assert any(b < a - 3600 for a, b in zip(times, times[1:])), "no PTS wrap in the file"


@pytest.mark.parametrize("name", ["video_late", "audio_late", "ts_10h_video_late", "ts_10h_audio_late"])
def test_the_generated_late_stream_starts_late(media_cache, sources, name) -> None:
    """Guard on the generator: the named stream starts 1.5 s after the other."""
    doc = json.loads(ffprobe("-show_entries", "stream=codec_type,start_time", "-of", "json",
                             str(variant(media_cache, sources["planted"], name))))
    start = {s["codec_type"]: float(s["start_time"]) for s in doc["streams"]}
    late, early = ("video", "audio") if "video" in name else ("audio", "video")
    assert abs(start[late] - start[early] - 1.5) <= 0.1, start


def test_frame_rate_windows_are_read_on_the_capture_s_clock(media_cache, prof) -> None:
    """A 10-h MPEG-TS whose header says 25 fps but runs at half rate from 20 s: the later measuring
    windows (ffprobe reads intervals on the container's clock) must land there, not on its first 10 s."""
    src = cached(media_cache, "timeline-vfr-late.mp4", clips.clip, seconds=30.0,
                 video_tail="select='not(gte(t\\,20)*mod(n\\,2))'", extra=["-fps_mode", "vfr"])
    ts = cached(media_cache, "timeline-vfr-late-ts_10h.ts", timeline.ts_capture, src, 36000.0)
    header = json.loads(ffprobe("-select_streams", "v", "-show_entries", "stream=r_frame_rate,avg_frame_rate",
                                "-of", "json", str(ts)))["streams"][0]
    assert header["r_frame_rate"] == header["avg_frame_rate"], "guard: the header alone must not say VFR"
    assert probe(ts, prof).media.video.vfr


@pytest.mark.parametrize("fmt, streams, origin, duration", [
    ({"start_time": "36001.378667", "duration": "12.021333"},
     [("36001.4", "12.0"), ("36001.378667", "11.882667")], 36001.378667, 12.021333),       # TS: from its start
    ({"start_time": "4.978", "duration": "17.0"}, [("5.0", "12.0"), ("4.978", "12.021")], 4.978, 12.022),  # MP4
    ({"start_time": "-4.021333", "duration": "12.032"}, [("-4.0", "12.0"), ("-4.021333", "12.032")], -4.021333,
     12.032),                                                                                # TS past the PTS wrap
    ({"duration": "8.0"}, [("0.5", "7.5"), (None, "8.0")], 0.5, 8.0),                       # no format start
    ({"start_time": "0.000000", "duration": "8.0"}, [("0.0", "8.0")], 0.0, 8.0),
])
def test_time_zero_and_duration_from_ffprobe(fmt, streams, origin, duration) -> None:
    raw = {"format": fmt, "streams": [{"index": i, "start_time": start, "duration": length}
                                      for i, (start, length) in enumerate(streams)]}
    assert probe_mod.origin_of(raw) == pytest.approx(origin)
    ends = probe_mod.stream_ends(raw, probe_mod.origin_of(raw))
    assert probe_mod.content_duration(raw, ends) == pytest.approx(duration, abs=0.002)


numbers = st.one_of(st.none(), st.floats(allow_nan=True), st.sampled_from(["0", "-4.6", "36001.4", "1e400", "x"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fmt_start=numbers, fmt_duration=numbers, starts=st.lists(st.tuples(numbers, numbers), min_size=1, max_size=3))
def test_any_start_and_duration_parse_or_are_unreadable(tmp_path_factory, fmt_start, fmt_duration, starts) -> None:
    """Whatever ffprobe says about starts and durations: a Media with a positive duration, or InputUnreadable."""
    path = tmp_path_factory.getbasetemp() / "timeline-fuzz.ts"
    path.write_bytes(b"x")
    raw = {"format": {"format_name": "mpegts", "start_time": fmt_start, "duration": fmt_duration, "size": "1000"},
           "streams": [{"index": i, "codec_type": "video" if i == 0 else "audio", "codec_name": "h264",
                        "width": 640, "height": 360, "start_time": start, "duration": length}
                       for i, (start, length) in enumerate(starts)]}
    try:
        media = probe_mod.parse_ffprobe(raw, path, probe_mod.stream_ends(raw, probe_mod.origin_of(raw)))
    except InputUnreadable:
        return
    assert media.duration_s > 0 and (media.bit_rate is None or media.bit_rate >= 0)


def test_packet_ends_count_from_the_time_zero() -> None:
    ends = probe_mod.parse_packet_ends("0,36001.40,0.04\n0,36013.36,0.04\n1,36001.38,0.021\n")
    assert {i: round(t - 36001.38, 2) for i, t in ends.items()} == {0: 12.02, 1: 0.02}


# ---------- the speech audio: sample 0 is the segment's start on the file's timeline ----------

def quiet_span(wav: Path, window_s: float = 0.1) -> tuple[float, float]:
    """(start, end) of the longest run of digitally silent windows in a 16 kHz mono WAV."""
    samples = read_wav(wav).astype(np.float64)
    n = int(16000 * window_s)
    rms = np.sqrt(np.mean(samples[: samples.size // n * n].reshape(-1, n) ** 2, axis=1))
    best, run_start = (0, 0), None
    for i, quiet in enumerate(np.append(rms < 1e-4, False)):
        if quiet and run_start is None:
            run_start = i
        elif not quiet and run_start is not None:
            best = max(best, (run_start, i), key=lambda r: r[1] - r[0])
            run_start = None
    return best[0] * window_s, best[1] * window_s


@pytest.mark.parametrize("name", ["audio_late", "ts_10h_audio_late"])
@pytest.mark.parametrize("start_s, length_s", [(0.0, None), (1.0, 14.0), (5.0, 10.0)])
def test_speech_audio_counts_from_the_segment_start(media_cache, sources, tmp_path, name, start_s, length_s) -> None:
    """Audio that starts 1.5 s after the picture is padded: the planted silence stays at its time."""
    path = variant(media_cache, sources["planted"], name)
    wav = decode.extract_audio(path, tmp_path / "a.wav", start_s, length_s)
    start, end = quiet_span(wav)
    assert abs(start - (SILENT[0] - start_s)) <= 0.2 and abs(end - (SILENT[1] - start_s)) <= 0.2, (start, end)
    assert abs(read_wav(wav).size / 16000 - (length_s or SECONDS - start_s)) <= 0.1


# ---------- the frame stream: on-screen times on the file's timeline ----------

QR_AT = (4.0, 8.0)
SLIDES = Video((
    Slide((Text("第一部分 认识几分之一", (90, 60), 48, SANS_BOLD, "#1a3e72"),), 4.0),
    Slide((Text("课后练习答案", (90, 60), 48, SANS_BOLD, "#1a3e72"),), 4.0, qr=("https://example.com/a?id=7", 820, 220, 300)),
    Slide((Text("课堂小结", (90, 60), 48, SANS_BOLD, "#1a3e72"),), 4.0),
))


@pytest.fixture(scope="module")
def slides(media_cache: Path) -> Path:
    return cached(media_cache, "timeline-slides.mp4", render, SLIDES)


def qr_span(findings) -> tuple[float, float]:
    (f,) = [f for f in findings if f.code == "text.qr_code"]
    return f.start_s, f.end_s


@pytest.mark.parametrize("name", ["video_late", "ts_10h_video_late", "ts_10h"])
def test_onscreen_times_count_from_the_first_frame(media_cache, slides, prof, tmp_path, name) -> None:
    """The QR slide shown at 4-8 s is reported there when the picture starts 1.5 s after the sound."""
    start, end = qr_span(run(slide_variant(media_cache, slides, name), prof, tmp_path).findings)
    assert abs(start - QR_AT[0]) <= TOL and abs(end - QR_AT[1]) <= TOL, (start, end)


def slide_variant(media_cache: Path, slides: Path, name: str) -> Path:
    v = VARIANTS[name]
    return cached(media_cache, f"timeline-slides-{name}{v.suffix}", v.make, slides, *v.args)


@pytest.mark.parametrize("segment", [(0.0, 10.0), (1.0, 9.0), (3.0, None)])
def test_a_farm_segment_of_a_late_picture_keeps_its_times(media_cache, slides, prof, tmp_path, segment) -> None:
    """A segment decoded alone (the farm), from the start, before or after the picture's first frame."""
    path = slide_variant(media_cache, slides, "ts_10h_video_late")
    media = probe(path, prof).media
    stage = registry.all_stages()["onscreen"]
    output: StageOutput = plan.run_segment(stage, StageContext(path, media, prof, tmp_path, *segment))
    start, end = qr_span(output.findings)
    assert abs(start - QR_AT[0]) <= TOL and abs(end - QR_AT[1]) <= TOL, (start, end)


# ---------- speech and on-screen text on one timeline (Whisper) ----------

SPEECH_AT = 2.0  # the Mandarin clip starts here on the source's clock; the TS's sound starts 1.5 s late


@pytest.mark.model
def test_transcript_and_onscreen_times_share_the_first_frame_s_zero(media_cache, slides, prof, tmp_path) -> None:
    """A 10-h MPEG-TS whose sound starts 1.5 s after its picture: the transcript and the QR slide
    are where the MP4 control (both streams at 0) has them."""
    src = cached(media_cache, "timeline-speech.mp4", timeline.with_speech, slides, LESSON_CLIPS[0], SPEECH_AT)
    ts = cached(media_cache, "timeline-speech-ts_10h_audio_late.ts", timeline.late_stream, src, "audio", 1.5, 36000.0)
    control, capture = run(src, prof, tmp_path / "mp4", frozenset()), run(ts, prof, tmp_path / "ts", frozenset())
    assert capture.stages["speech"].status == "ok" and capture.transcript, capture.stages
    first, expected = capture.transcript[0], control.transcript[0]
    assert abs(first.start_s - expected.start_s) <= TOL and abs(first.start_s - SPEECH_AT) <= 1.0, (first, expected)
    assert abs(capture.transcript[-1].end_s - control.transcript[-1].end_s) <= TOL
    for report in (control, capture):
        start, end = qr_span(report.findings)
        assert abs(start - QR_AT[0]) <= TOL and abs(end - QR_AT[1]) <= TOL, (start, end)
