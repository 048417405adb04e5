"""Pure building blocks of the check: segment cuts, seam joining, decode arguments, log parsing."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.media import decode
from pipelines import profile as profiles
from pipelines.media import faults
from pipelines.plan import segments
from pipelines.frames import FrameSpec
from pipelines.domain import AudioInfo, Finding, Media, VideoInfo
from pipelines.stages import join_touching


@pytest.mark.parametrize("duration, size, expected", [
    (900, 300, [(0, 300), (300, 300), (600, 300)]),
    (620, 300, [(0, 300), (300, 320)]),
    (20, 300, [(0, 20)]),
    (10, 3, [(0, 3), (3, 3), (6, 4)]),
])
def test_segments_cover_the_whole_file(duration, size, expected):
    cuts = segments(duration, size)
    assert cuts == expected
    assert sum(length for _, length in cuts) == pytest.approx(duration)


def test_join_touching_joins_seams_only_for_same_key():
    parts = [Finding("speech.language", "fail", "en", 280.0, 300.0, {"key": "en"}),
             Finding("speech.language", "fail", "en", 300.2, 330.0, {"key": "en"}),
             Finding("speech.language", "fail", "ja", 330.5, 340.0, {"key": "ja"}),
             Finding("tech.duration", "fail", "d")]
    joined = join_touching(parts)
    assert [(f.evidence.get("key"), f.start_s, f.end_s) for f in joined] == [
        (None, None, None), ("en", 280.0, 330.0), ("ja", 330.5, 340.0)]


def test_decode_args_share_one_decode():
    plan = decode.DecodePlan(path=Path("in.mp4"), start_s=300, duration_s=300, video_chain="blackdetect,nullsink",
                             audio_chain="ebur128,anullsink", frames=FrameSpec(2, 1080), source_size=(3840, 2160),
                             wav_out=Path("a.wav"), input_options=["-skip_frame", "noref"])
    args = decode.build_args(plan)
    assert args.count("-i") == 1 and "-filter_complex" in args
    assert args[args.index("-ss") + 1] == "300.000" and args.index("-skip_frame") < args.index("-i")
    graph = args[args.index("-filter_complex") + 1]
    assert "split=2" in graph and "asplit=2" in graph and "scale=1920:1080" in graph
    assert args[-1] == "a.wav"


SAMPLE_LOG = """[blackdetect @ 0x1] black_start:4 black_end:7.2 black_duration:3.2
[freezedetect @ 0x2] lavfi.freezedetect.freeze_start: 70
[freezedetect @ 0x2] lavfi.freezedetect.freeze_end: 140.4
[Parsed_cropdetect_4 @ 0x3] x1:0 x2:319 y1:24 y2:155 w:320 h:132 x:0 y:24 pts:1 t:1.000000 limit:0.094 crop=320:132:0:24
[Parsed_cropdetect_4 @ 0x3] x1:0 x2:319 y1:24 y2:155 w:320 h:132 x:0 y:24 pts:2 t:9.000000 limit:0.094 crop=320:132:0:24
[silencedetect @ 0x4] silence_start: 100.5
[silencedetect @ 0x4] silence_end: 130 | silence_duration: 29.5
[h264 @ 0x5] error while decoding MB 10 20, bytestream -5
  Integrated loudness:
    I:         -35.2 LUFS
  True peak:
    Peak:      -1.5 dBFS"""


def test_parse_log_sample():
    media = Media("mp4", 200.0, 1, None, VideoInfo("h264", 1920, 1080, "16:9", 25, False, None, "yuv420p", "progressive"),
                  AudioInfo("aac", 48000, 2, 128000))
    profile = profiles.load("micro-primary")
    a = faults.parse_log(SAMPLE_LOG.splitlines(), "", media, profile)
    assert a.black == [(4.0, 7.2)] and a.frozen == [(70.0, 140.4)] and a.silence == [(100.5, 130.0)]
    assert (a.loudness_lufs, a.true_peak_dbtp, len(a.decode_errors)) == (-35.2, -1.5, 1)
    codes = sorted(f.code for f in faults.findings(a, profile))
    assert codes == ["signal.black", "signal.decode_errors", "signal.frozen", "signal.letterbox",
                     "signal.loudness", "signal.silence"]


@pytest.mark.parametrize("crop, kind", [
    ((320, 132, 0, 24), "letterbox"), ((240, 180, 40, 0), "pillarbox"),
    ((200, 100, 60, 40), None),  # a dark slide: margins on all four sides
    ((320, 180, 0, 0), None), ((320, 150, 0, 0), None),  # full picture; a bar at the bottom only
])
def test_bar_kind(crop, kind):
    found = faults.bar_kind(*crop, 320, 180, 0.03)
    assert (found[0] if found else None) == kind


def test_clipping_windows_from_astats():
    profile = profiles.load("micro-primary")
    text = "\n".join(f"frame:{i} pts:{i} pts_time:{i * 0.5}\nlavfi.astats.Overall.Peak_level={peak}\n"
                     f"lavfi.astats.Overall.Flat_factor={flat}" for i, (peak, flat) in
                     enumerate([(-6, 0), (0.0, 12.0), (1.8, 0), (-0.05, 0), (-3, 0)]))
    assert faults.parse_astats(text, profile) == [0.5, 1.0]
    assert faults.merge_windows([0.5, 1.0, 3.0], 0.5) == [(0.5, 1.5), (3.0, 3.5)]


def test_frozen_limit_depends_on_how_still_the_video_is():
    profile = profiles.load("micro-primary")
    slides = faults.Analysis(duration_s=1000.0, frozen=[(0, 120), (125, 400), (405, 720), (725, 1000)])
    assert [(f.start_s, f.end_s) for f in faults.findings(slides, profile) if f.code == "signal.frozen"] == [(405, 720)]
    live = faults.Analysis(duration_s=1000.0, frozen=[(0.6, 6.0), (100, 112), (500, 505), (600, 604.5), (995, 1000)])
    found = [(f.start_s, f.end_s) for f in faults.findings(live, profile) if f.code == "signal.frozen"]
    assert found == [(100, 112), (500, 505)], "SPEC: >= 5 s in live video; the title and end cards are not faults"
    short = faults.Analysis(duration_s=29.0, frozen=[(0.0, 5.0), (11.0, 23.0)])  # a long freeze in a short video
    assert [(f.start_s, f.end_s) for f in faults.findings(short, profile) if f.code == "signal.frozen"] == [(11, 23)]


def test_dead_air_is_room_tone_or_silence_not_music():
    """0.5 s windows: quiet and noise-like (or digital silence) is dead air; quiet but tonal (music) is not."""
    profile = profiles.load("micro-primary")
    levels = [(0.0, -22.0), (0.5, -46.0), (1.0, -46.0), (1.5, float("-inf")), (2.0, -44.0), (2.5, -30.0)]
    flatness = [(0.0, 0.4), (0.512, 0.75), (1.024, 0.08), (1.536, float("nan")), (2.048, 0.7), (2.56, 0.1)]
    assert faults.room_tone_windows(levels, flatness, profile) == [0.5, 1.5, 2.0]
    text = "frame:0 pts:0 pts_time:0\nlavfi.astats.Overall.RMS_level=-inf\nframe:1 pts:1 pts_time:0.5\n" \
           "lavfi.astats.Overall.RMS_level=-41.5\n"
    assert faults.parse_metadata(text, "lavfi.astats.Overall.RMS_level") == [(0.0, float("-inf")), (0.5, -41.5)]


@pytest.mark.parametrize("room, silence, expected", [
    ([], [(10.0, 18.5)], [("review", 10.0, 18.5)]),                   # 8.5 s inside the lesson: review
    ([], [(10.0, 17.0)], []),                                          # 7 s: a pause
    ([10.0 + 0.5 * i for i in range(44)], [], [("fail", 10.0, 32.0)]),  # 22 s of room tone: fail
    ([], [(0.0, 12.0)], []),                                           # a silent title card and lead-in
    ([], [(0.0, 17.0)], [("review", 0.0, 17.0)]),                      # ... but not 9 s beyond it
])
def test_dead_air_thresholds(room, silence, expected):
    profile = profiles.load("micro-primary")
    a = faults.Analysis(duration_s=120.0, silence=silence, room_tone=room)
    found = [(f.severity, f.start_s, f.end_s) for f in faults.findings(a, profile) if f.code == "signal.silence"]
    assert found == expected
