"""Files whose streams do not start at 0: the same content on another clock.

Each generator rewrites a source file (a cached clip or slide video) the way capture
devices and editors do, so a test can compare it with the source:

  ts_capture    MPEG-TS whose PTS start late (`-output_ts_offset`, `-muxdelay`): 1.4 s, 10 h,
                or just before the 33-bit PTS wrap (the clock wraps to 0 inside the file)
  edit_list     MP4 cut by stream copy (`-ss` with `-c copy`): an edit list skips the first seconds
  late_start    MP4 (or Matroska) whose every stream starts late (MP4: an empty edit first)
  late_stream   one stream starts later than the other (a recorder that opened the camera or the
                microphone late): its first seconds are dropped, so both still end together and
                the source's content stays at the source's times
  with_speech   a picture with a recorded Mandarin clip starting at a known time
"""
from __future__ import annotations

from pathlib import Path

from testmedia.base import DATA, ffmpeg

PTS_WRAP_S = 2 ** 33 / 90000  # the 33-bit 90 kHz MPEG clock wraps after about 26.5 hours
VIDEO = ("-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-b:v", "5M", "-minrate", "5M", "-maxrate", "5M",
         "-bufsize", "5M", "-x264-params", "nal-hrd=cbr", "-pix_fmt", "yuv420p")
AUDIO = ("-c:a", "aac", "-b:a", "192k", "-ar", "48000")  # a trimmed track's measured rate stays above 128k


def ts_args(offset_s: float, muxdelay_s: float = 0.7) -> list[str]:
    """Muxer options of an MPEG-TS capture whose clock reads `offset_s` + `muxdelay_s` at its first frame."""
    return ["-f", "mpegts", "-output_ts_offset", f"{offset_s:.6f}", "-muxdelay", f"{muxdelay_s}",
            "-muxpreload", f"{muxdelay_s}"]


def ts_capture(out: Path, src: Path, offset_s: float, muxdelay_s: float = 0.7) -> Path:
    """`src` remuxed (stream copy) into MPEG-TS starting at `offset_s` + `muxdelay_s` on its clock."""
    ffmpeg("-i", src, "-map", "0", "-c", "copy", *ts_args(offset_s, muxdelay_s), out)
    return out


def wrapped_ts(out: Path, src: Path, wrap_after_s: float) -> Path:
    """`src` as MPEG-TS whose PTS wrap past 2^33 to 0 about `wrap_after_s` into the file."""
    return ts_capture(out, src, PTS_WRAP_S - wrap_after_s, muxdelay_s=0.0)


def edit_list(out: Path, src: Path, cut_s: float) -> Path:
    """`src` from `cut_s` on, by stream copy into MP4: the kept packets start at the keyframe before
    `cut_s` and an edit list hides the frames before it."""
    ffmpeg("-ss", f"{cut_s}", "-i", src, "-map", "0", "-c", "copy", out)
    return out


def late_start(out: Path, src: Path, offset_s: float) -> Path:
    """`src` by stream copy with every stream `offset_s` late (MP4: an empty edit first; the container
    follows `out`'s suffix)."""
    ffmpeg("-i", src, "-map", "0", "-c", "copy", "-output_ts_offset", f"{offset_s}", out)
    return out


def late_stream(out: Path, src: Path, kind: str, late_s: float, ts_offset_s: float | None = None) -> Path:
    """`src` with its `kind` ("audio" or "video") stream starting `late_s` after the other: that stream
    loses its first `late_s` seconds (re-encoded, times kept); MPEG-TS on a clock starting at
    `ts_offset_s` when given, else MP4."""
    if kind == "video":
        graph, codecs = f"[0:v:0]trim=start={late_s}[late]", ["-map", "0:a:0", "-c:a", "copy", *VIDEO]
    else:
        graph, codecs = f"[0:a:0]atrim=start={late_s}[late]", ["-map", "0:v:0", "-c:v", "copy", *AUDIO]
    muxer = [] if ts_offset_s is None else ts_args(ts_offset_s)
    ffmpeg("-i", src, "-filter_complex", graph, "-map", "[late]", *codecs, "-fps_mode", "passthrough", *muxer, out)
    return out


def with_speech(out: Path, src: Path, clip: str, at_s: float) -> Path:
    """`src`'s picture with a new sound: silence, then the recorded clip `clip` (tests/data) from `at_s`,
    silence again to the picture's end."""
    graph = (f"[1:a]aresample=48000,adelay={round(at_s * 1000)}:all=1,apad,"
             f"pan=stereo|c0=c0|c1=c0[a]")
    ffmpeg("-i", src, "-i", DATA / clip, "-filter_complex", graph, "-map", "0:v:0", "-map", "[a]", "-c:v", "copy",
           *AUDIO, "-shortest", out)
    return out
