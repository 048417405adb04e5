"""Fuzzing (hypothesis) of what reads outside data: ffprobe JSON, ffmpeg logs, profiles, media paths.

Each parser either returns its typed result or raises the project's own error for that
input (InputUnreadable, ProfileError, MediaPathRefused); never anything else.
"""
from __future__ import annotations

import os
import string
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import profile as profiles
from pipelines.domain import AudioInfo, Media, VideoInfo
from pipelines.errors import InputUnreadable, MediaPathRefused, ProfileError
from pipelines.media import faults, probe
from pipelines.media.limits import server
from workers import paths

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PROFILE = profiles.load("micro-primary")
MEDIA = Media("mp4", 60.0, 1000, None, VideoInfo("h264", 640, 360, "16:9", 25.0, False, None, "yuv420p", "unknown"),
              AudioInfo("aac", 48000, 2, None))

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["0/0", "25/1", "1/0", "nan", "inf", "-1", "1e400",
                                                           "00:00:01.5", "mov,mp4,m4a", "video", "audio"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=5)),
                           max_leaves=20)
STREAM_KEYS = ["index", "codec_type", "codec_name", "width", "height", "r_frame_rate", "avg_frame_rate", "duration",
               "nb_frames", "disposition", "tags", "side_data_list", "display_aspect_ratio", "sample_rate", "channels",
               "bit_rate", "field_order", "start_time"]
streams = st.dictionaries(st.sampled_from(STREAM_KEYS), json_values, max_size=10)
ffprobe_docs = st.fixed_dictionaries({}, optional={
    "format": st.one_of(json_values, st.dictionaries(st.sampled_from(["format_name", "duration", "size", "bit_rate",
                                                                      "tags"]), json_values)),
    "streams": st.one_of(json_values, st.lists(streams, max_size=6))})


@FUZZ
@given(doc=ffprobe_docs)
def test_ffprobe_json_parses_or_is_unreadable(doc, tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "fuzz.mp4"
    path.write_bytes(b"x")
    try:
        media = probe.parse_ffprobe(doc, path, probe.stream_ends(doc))
        probe.check_streams(doc, server().safety, server().inputs.formats)
    except InputUnreadable:
        return
    assert media.duration_s > 0 and media.video.width >= 0
    probe.tech_findings(media, PROFILE)
    probe.stream_findings(probe.stream_summary(doc, probe.stream_ends(doc), media), PROFILE)


log_lines = st.lists(st.one_of(
    st.text(max_size=60),
    st.builds(lambda a, b: f"[blackdetect @ 0x1] black_start:{a} black_end:{b} black_duration:1", st.text("0123456789.-", max_size=6), st.text("0123456789.", max_size=6)),
    st.builds(lambda a: f"[freezedetect @ 0x1] lavfi.freezedetect.freeze_start: {a}", st.text("0123456789.", max_size=6)),
    st.builds(lambda a: f"[freezedetect @ 0x1] lavfi.freezedetect.freeze_end: {a}", st.text("0123456789.", max_size=6)),
    st.builds(lambda a: f"[silencedetect @ 0x1] silence_start: {a}", st.text("-0123456789.", max_size=6)),
    st.builds(lambda a: f"[silencedetect @ 0x1] silence_end: {a} | silence_duration: 1", st.text("0123456789.", max_size=6)),
    st.builds(lambda a: f"    I:        {a} LUFS", st.text("-0123456789.inf", max_size=6)),
    st.builds(lambda a: f"    Peak:     {a} dBFS", st.text("-0123456789.inf", max_size=6)),
    st.builds(lambda *v: "[Parsed_cropdetect_2 @ 0x1] x1:0 x2:1 y1:0 y2:1 w:{} h:{} x:{} y:{} pts:1 t:{} crop=1:1:0:0".format(*v),
              *[st.text("-0123456789", max_size=4)] * 4, st.text("0123456789.", max_size=5)),
    st.just("[h264 @ 0x1] error while decoding MB 1 2"),
), max_size=40)
astats = st.lists(st.one_of(st.text(max_size=30), st.builds(lambda t: f"frame:1 pts:1 pts_time:{t}", st.text("0123456789.", max_size=5)),
                            st.builds(lambda v: f"lavfi.astats.Overall.Peak_level={v}", st.text("-0123456789.inf", max_size=6)),
                            st.builds(lambda v: f"lavfi.astats.Overall.Flat_factor={v}", st.text("-0123456789.", max_size=6))),
                  max_size=20).map("\n".join)


@FUZZ
@given(log_lines, astats)
def test_ffmpeg_logs_parse_into_findings(lines, stats):
    analysis = faults.parse_log(lines, stats, MEDIA, PROFILE)
    faults.findings(analysis, PROFILE)
    faults.metrics(analysis)


@FUZZ
@given(st.text(max_size=400))
def test_packet_and_timing_logs_parse(text):
    ends = probe.parse_packet_ends(text)
    assert all(isinstance(k, int) for k in ends)
    assert probe.is_variable(text) in (True, False)
    probe.probe_error(text)


yaml_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=10), inner, max_size=3)),
                           max_leaves=12)
known = st.sampled_from(["video", "audio", "signal", "duration", "farm", "onscreen", "speech", "languages", "name",
                         "safety", "file", "frames", "lab", "report"])
profile_docs = st.dictionaries(st.one_of(known, st.text(max_size=8)), yaml_values, max_size=4)


@FUZZ
@given(doc=st.one_of(profile_docs, st.text(max_size=200)))
def test_profile_files_load_or_are_refused_by_name(doc, tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "fuzz-profile.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    try:
        loaded = profiles.load(path)
    except ProfileError as err:
        assert str(path) in str(err) or "profile" in str(err)
        return
    assert loaded.video.width > 0


segment = st.one_of(st.sampled_from(["..", ".", "", "a", "b.mp4", "link", "~", "\x00", "..."]),
                    st.text(string.ascii_letters + "./~-_ ", max_size=6))


@FUZZ
@given(parts=st.lists(segment, min_size=1, max_size=5), absolute=st.booleans())
def test_media_paths_resolve_under_a_root_or_are_refused(parts, absolute, tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    root, outside = base / "fuzzroot", base / "fuzzout"
    root.mkdir(exist_ok=True)
    outside.mkdir(exist_ok=True)
    if not (root / "link").is_symlink():
        (root / "link").symlink_to(outside)
    ref = ("/" if absolute else "") + "/".join(parts)
    try:
        real = paths.resolve(ref, [root.resolve()])
    except (MediaPathRefused, ValueError):
        return
    assert real.is_relative_to(root.resolve()) and ".." not in Path(ref).parts
    assert os.path.realpath(real) == str(real)
