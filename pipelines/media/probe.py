"""Probe: what the file is (ffprobe + a short idet sample), checked against the profile.

Safety limits are enforced here, before anything decodes the whole file.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipelines import tools
from pipelines.errors import InputUnreadable, ToolError
from pipelines.media.limits import Safety, server
from pipelines.profile import Profile
from pipelines.domain import AudioInfo, Finding, Media, VideoInfo

IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "gif", "bmp_pipe", "tiff_pipe"}
FD_PREFIX_RE = re.compile(r"/proc/self/fd/\d+:\s*")
WHITELIST_RE = re.compile(r"\[(\w+) @ [^\]]*\] Format not on whitelist")
IDET_RE = re.compile(r"Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)")


@dataclass
class ProbeResult:
    """The measured media description and the tech.* findings it raises."""

    media: Media
    findings: list[Finding]
    metrics: dict[str, Any]


def probe(path: Path, profile: Profile) -> ProbeResult:
    """Describe `path`, enforce the server's safety limits, measure scan type and frame timing, raise tech.* findings."""
    _check_path(path)
    limits = server().safety
    raw = run_ffprobe(path, limits.probe_timeout_s)
    check_streams(raw, limits, server().inputs.formats)
    origin = origin_of(raw)
    ends = stream_ends(raw, origin)
    if not _stated_duration(raw) or _ambiguous_ends(raw, origin):
        ends = scan_packet_ends(path, limits.scan_timeout_s, origin)
    media = parse_ffprobe(raw, path, ends)
    media.video.end_s = _round(ends.get(media.video.stream))
    check_safety(media, limits)
    idet = measure_interlace(path, media, profile)
    if idet["scan"] != "unknown":  # static pictures give idet nothing to measure: keep the header's word
        media.video.scan = idet["scan"]
    media.video.vfr = media.video.vfr or measure_vfr(path, media, profile, origin)
    streams = stream_summary(raw, ends, media)
    findings = tech_findings(media, profile) + stream_findings(streams, profile)
    return ProbeResult(media, findings, {"idet": idet, "streams": streams})


def _check_path(path: Path) -> None:
    if not path.exists():
        raise InputUnreadable(f"文件不存在 / file not found: {path}")
    if not path.is_file():
        raise InputUnreadable(f"不是文件 / not a regular file: {path}")
    if path.stat().st_size == 0:
        raise InputUnreadable(f"空文件 / empty file (0 bytes): {path}")


def run_ffprobe(path: Path, timeout: float) -> dict[str, Any]:
    """ffprobe's JSON for format and streams; unreadable input becomes InputUnreadable."""
    args = ["-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)]
    try:
        out = tools.run("ffprobe", args, timeout=timeout)
    except ToolError as exc:
        raise InputUnreadable(probe_error(exc.stderr) or f"无法解析的媒体文件 / not a readable media file: {exc}") from None
    try:
        doc = json.loads(out.stdout or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict):
        raise InputUnreadable("ffprobe returned no usable description")
    return doc


def probe_error(stderr: str) -> str:
    """A reviewer's message for ffprobe's refusal ('' when its log says nothing useful)."""
    lines = [line for line in (stderr or "").strip().splitlines() if line.strip()]
    refused = next((m for line in lines if (m := WHITELIST_RE.search(line))), None)
    if refused:
        return f"容器格式不允许 / container format not allowed: {refused[1]} (playlists and lists are refused)"
    if not lines:
        return ""
    detail = FD_PREFIX_RE.sub("", lines[-1])  # the tools read the opened file as /proc/self/fd/N
    return f"无法解析的媒体文件 / not a readable media file: {detail[-300:]}"


def parse_ffprobe(raw: dict[str, Any], path: Path, ends: dict[int, float] | None = None) -> Media:
    """Pure parser: ffprobe JSON (+ measured stream ends) -> Media. Raises InputUnreadable without usable video."""
    fmt = raw.get("format") or {}
    streams = _streams(raw)
    if not isinstance(fmt, dict):
        fmt = {}
    video = pick_video(streams)
    if not fmt or _str(fmt.get("format_name")) in IMAGE_FORMATS or (video and _is_still(video, fmt)):
        raise InputUnreadable("不是视频：静态图片或无法识别的格式 / not a video: still image or unknown format")
    if video is None:
        kind = "audio-only file" if _first(streams, "audio") else "no video stream"
        raise InputUnreadable(f"没有视频流 / {kind}")
    duration = content_duration(raw, ends or {}) or _stream_duration(video) or max((ends or {}).values(), default=None)
    if not duration or not math.isfinite(duration) or round(duration, 3) <= 0:
        raise InputUnreadable("无法确定时长 / duration unknown (truncated or not a video)")
    size = max(0, _int(fmt.get("size")) or 0) or path.stat().st_size
    return Media(
        container=_container(fmt),
        duration_s=round(duration, 3),
        size_bytes=size,
        bit_rate=_bit_rate(fmt, size, duration),
        video=_video_info(video),
        audio=_audio_info(_first(streams, "audio")),
    )


def _bit_rate(fmt: dict[str, Any], size: int, duration: float) -> int | None:
    """The container's bit rate; recomputed over the content's duration where that is not the one stated
    (ffprobe divided the size by a duration counted from the container's 0)."""
    stated = _float(fmt.get("duration"))
    if stated and duration != stated and math.isfinite(rate := size * 8 / duration):
        return int(rate)
    return _int(fmt.get("bit_rate"))


def origin_of(raw: dict[str, Any]) -> float:
    """The file's time zero, in the container's clock: where its first frame or sample is (ffprobe's
    format start_time, else the earliest stream's). Every ffmpeg filter and seek counts from here,
    so reports do too; an MPEG-TS capture starting at 10 h or an edit list changes nothing."""
    fmt = raw.get("format") if isinstance(raw.get("format"), dict) else {}
    start = _float(fmt.get("start_time"))
    if start is None:
        start = min((t for s in _streams(raw) if (t := _float(s.get("start_time"))) is not None), default=None)
    return start or 0.0


def content_duration(raw: dict[str, Any], ends: dict[int, float]) -> float | None:
    """How long the content lasts from its first frame: the container's duration, unless that counts
    from the container's zero while the streams start later (MP4 with an edit list that delays every
    stream): then the streams' latest end."""
    fmt = raw.get("format") if isinstance(raw.get("format"), dict) else {}
    stated, origin = _float(fmt.get("duration")), origin_of(raw)
    latest = max(ends.values(), default=None)
    if stated and latest and latest > 0 and origin > 0 and abs(stated - latest - origin) < abs(stated - latest):
        return latest
    return stated


def _streams(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """ffprobe's stream list, keeping only well-formed entries."""
    found = raw.get("streams")
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []


def _first(streams: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    for s in streams:
        if s.get("codec_type") == kind and not _dict(s.get("disposition")).get("attached_pic"):
            return s
    return None


def pick_video(streams: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The real picture: the first video stream that is neither cover art nor a single still image."""
    videos = [s for s in streams if s.get("codec_type") == "video" and not _dict(s.get("disposition")).get("attached_pic")]
    moving = [s for s in videos if not _is_still(s, {})]
    return (moving or videos or [None])[0]


def _is_still(video: dict[str, Any], fmt: dict[str, Any]) -> bool:
    frames = _int(video.get("nb_frames"))
    return video.get("codec_name") in {"png", "mjpeg", "bmp", "webp", "gif"} and (frames or 0) <= 1 \
        or (frames is not None and frames <= 1)


def _container(fmt: dict[str, Any]) -> str:
    name = _str(fmt.get("format_name"))
    if name.startswith("mov,mp4"):
        brand = _str(_dict(fmt.get("tags")).get("major_brand")).strip()
        return "mov" if brand == "qt" else "mp4"
    return name.split(",")[0]


def _stream_duration(s: dict[str, Any]) -> float | None:
    """A stream's duration: its own field, or Matroska's DURATION tag (hh:mm:ss.frac)."""
    value = _float(s.get("duration"))
    if value:
        return value
    tag = _str(_dict(s.get("tags")).get("DURATION"))
    parts = tag.split(":")
    if len(parts) != 3:
        return None
    h, m, sec = (_float(p) for p in parts)
    return None if None in (h, m, sec) else h * 3600 + m * 60 + sec


def _video_info(s: dict[str, Any]) -> VideoInfo:
    r_rate, avg_rate = _rate(s.get("r_frame_rate")), _rate(s.get("avg_frame_rate"))
    fps = avg_rate or r_rate
    vfr = bool(r_rate and avg_rate and abs(r_rate - avg_rate) / r_rate > 0.01)
    field_order = _str(s.get("field_order"))
    scan = "progressive" if field_order == "progressive" else ("interlaced" if field_order in {"tt", "bb", "tb", "bt"} else "unknown")
    width, height, dar = _int(s.get("width")) or 0, _int(s.get("height")) or 0, _dar(s)
    if _rotation(s) % 180 == 90:  # a phone held upright: shown (and decoded by ffmpeg) turned a quarter
        width, height, dar = height, width, ":".join(reversed(dar.split(":")))
    return VideoInfo(
        codec=_str(s.get("codec_name"), "unknown"), width=width, height=height,
        dar=dar, fps=round(fps, 3), vfr=vfr, bit_rate=_int(s.get("bit_rate")),
        pix_fmt=_str(s.get("pix_fmt"), "unknown"), scan=scan, stream=_int(s.get("index")),
    )


def _rotation(s: dict[str, Any]) -> int:
    """Display rotation in degrees (0..359) from the display matrix side data or the legacy tag."""
    sides = s.get("side_data_list") if isinstance(s.get("side_data_list"), list) else []
    for side in (d for d in sides if isinstance(d, dict)):
        if "rotation" in side:
            return (_int(side["rotation"]) or 0) % 360
    return (_int(_dict(s.get("tags")).get("rotate")) or 0) % 360


def _audio_info(s: dict[str, Any] | None) -> AudioInfo | None:
    if s is None:
        return None
    return AudioInfo(codec=_str(s.get("codec_name"), "unknown"), sample_rate=_int(s.get("sample_rate")) or 0,
                     channels=_int(s.get("channels")) or 0, bit_rate=_int(s.get("bit_rate")))


def _dar(s: dict[str, Any]) -> str:
    dar = _str(s.get("display_aspect_ratio"))
    if re.fullmatch(r"[1-9]\d*:[1-9]\d*", dar):
        return dar
    w, h = _int(s.get("width")) or 0, _int(s.get("height")) or 0
    if w <= 0 or h <= 0:
        return "0:1"
    ratio = Fraction(w, h)
    return f"{ratio.numerator}:{ratio.denominator}"


def _rate(text: str | None) -> float:
    try:
        value = float(Fraction(text if isinstance(text, str) and text else "0/1"))
    except (ValueError, ZeroDivisionError, OverflowError):
        return 0.0
    return value if math.isfinite(value) else 0.0


def _float(value: Any) -> float | None:
    """A finite number from ffprobe's text, or None."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def check_safety(media: Media, limits: Safety) -> None:
    """Refuse inputs beyond the server's safety limits before any full decode."""
    v = media.video
    problems = []
    if v.width < limits.min_width or v.height < limits.min_height:
        problems.append(f"invalid dimensions {v.width}x{v.height} (below {limits.min_width}x{limits.min_height})")
    if v.width > limits.max_width or v.height > limits.max_height:
        problems.append(f"dimensions {v.width}x{v.height} exceed {limits.max_width}x{limits.max_height}")
    if media.duration_s > limits.max_duration_s:
        problems.append(f"duration {media.duration_s:.0f}s exceeds {limits.max_duration_s}s")
    if media.size_bytes > limits.max_size_bytes:
        problems.append(f"size {media.size_bytes} bytes exceeds {limits.max_size_bytes}")
    if v.fps > limits.max_fps:
        problems.append(f"frame rate {v.fps} exceeds {limits.max_fps}")
    work = v.width * v.height * max(v.fps, 1.0) * media.duration_s
    if work > limits.max_pixel_frames:
        problems.append(f"decode work {work:.3g} pixel-frames (width x height x fps x duration) "
                        f"exceeds {limits.max_pixel_frames:.3g}")
    if problems:
        raise InputUnreadable("超出安全限制 / over the safety limits: " + "; ".join(problems))


def check_streams(raw: dict[str, Any], limits: Safety, formats: tuple[str, ...]) -> None:
    """Refuse a container not on the allow-list, or one with absurd stream counts, before reading further."""
    fmt = raw.get("format") if isinstance(raw.get("format"), dict) else {}
    name = _str(fmt.get("format_name"))
    if name and not any(part in formats for part in name.split(",")):
        raise InputUnreadable(f"容器格式不允许 / container format not allowed: {name}")
    streams = _streams(raw)
    counts = {kind: sum(1 for s in streams if s.get("codec_type") == kind) for kind in ("video", "audio")}
    problems = [f"{n} {label} exceed {limit}" for label, n, limit in (
        ("streams", len(streams), limits.max_streams), ("video streams", counts["video"], limits.max_video_streams),
        ("audio streams", counts["audio"], limits.max_audio_streams)) if n > limit]
    if problems:
        raise InputUnreadable("超出安全限制 / over the safety limits: " + "; ".join(problems))


def _stated_duration(raw: dict[str, Any]) -> bool:
    """False for a streamed MKV/WebM (browser MediaRecorder): no duration element."""
    fmt = raw.get("format") if isinstance(raw.get("format"), dict) else {}
    return bool(_float(fmt.get("duration")))


def _ambiguous_ends(raw: dict[str, Any], origin: float) -> bool:
    """A Matroska file starting after 0: its DURATION tags are a stream's length for some muxers and its
    last time (counted from 0) for others (ffmpeg), so its ends are measured from the packets."""
    fmt = raw.get("format") if isinstance(raw.get("format"), dict) else {}
    return origin > 0 and _str(fmt.get("format_name")).startswith("matroska")


def stream_ends(raw: dict[str, Any], origin: float = 0.0) -> dict[int, float]:
    """Each stream's end (start + duration) as the container states it, counted from the file's `origin`."""
    ends: dict[int, float] = {}
    for s in _streams(raw):
        if _int(s.get("index")) is None:
            continue
        duration, start = _stream_duration(s), _float(s.get("start_time"))
        if duration:
            ends[_int(s.get("index"))] = (0.0 if start is None else start - origin) + duration
    return ends


def scan_packet_ends(path: Path, timeout: float, origin: float = 0.0) -> dict[int, float]:
    """Measure each stream's end from its packets (demux only: no decode) when the container states none."""
    args = ["-v", "error", "-show_entries", "packet=stream_index,pts_time,duration_time", "-of", "csv=p=0", str(path)]
    out = tools.run("ffprobe", args, timeout=timeout, check=False)
    return {index: end - origin for index, end in parse_packet_ends(out.stdout.decode("utf-8", "replace")).items()}


def parse_packet_ends(text: str) -> dict[int, float]:
    """Pure parser of `stream_index,pts_time,duration_time` lines -> stream index -> end time (container clock)."""
    ends: dict[int, float] = {}
    for line in text.splitlines():
        fields = line.split(",")
        if len(fields) < 2 or not fields[0].strip().isdigit():
            continue
        pts = _float(fields[1])
        if pts is None or not math.isfinite(pts):
            continue
        duration = _float(fields[2]) if len(fields) > 2 else None
        end = pts + (duration if duration and math.isfinite(duration) and duration > 0 else 0.0)
        index = int(fields[0])
        ends[index] = max(ends.get(index, end), end)
    return ends


def stream_summary(raw: dict[str, Any], ends: dict[int, float], media: Media) -> dict[str, Any]:
    """Counts and end times of the streams that matter: the analysed video, the first audio, extra audio."""
    streams = _streams(raw)
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    audio_end = ends.get(_int(audio[0].get("index"))) if audio else None
    return {"video_index": media.video.stream, "video_end_s": media.video.end_s,
            "audio_end_s": _round(audio_end), "duration_s": media.duration_s, "audio_streams": len(audio)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def stream_findings(streams: dict[str, Any], profile: Profile) -> list[Finding]:
    """signal.video_short (picture ends well before the sound) and tech.audio_streams (extra audio)."""
    found: list[Finding] = []
    cfg = profile.signal.video_short
    video_end = streams["video_end_s"]
    longest = max(x for x in (streams["audio_end_s"], streams["duration_s"]) if x is not None)
    if video_end is not None and longest - video_end >= cfg.min_gap_s:
        found.append(Finding("signal.video_short", cfg.severity,
                             f"视频画面比声音提前结束 {longest - video_end:.1f} 秒", round(video_end, 2), round(longest, 2),
                             {"video_end_s": video_end, "end_s": longest, "limit_s": cfg.min_gap_s}))
    audio = profile.audio
    if streams["audio_streams"] > audio.max_streams:
        found.append(_f("tech.audio_streams", audio.streams_severity,
                        f"有 {streams['audio_streams']} 条音轨（只分析第一条）", streams["audio_streams"], audio.max_streams))
    return found


def measure_interlace(path: Path, media: Media, profile: Profile) -> dict[str, Any]:
    """Classify scan type with ffmpeg idet over a few short windows (not only the header flag)."""
    cfg = profile.video
    counts = [0, 0, 0]
    for start in _windows(media.duration_s, cfg.idet_windows):
        args = ["-hide_banner", "-nostdin", "-ss", f"{start:.2f}", "-i", str(path), "-map", video_map(media),
                "-frames:v", str(cfg.idet_frames), "-vf", f"idet=intl_thres={cfg.idet_intl_thres}", "-an", "-f", "null", "-"]
        out = tools.run("ffmpeg", args, timeout=60, check=False)
        match = IDET_RE.search(out.stderr)
        if match:
            counts = [a + int(b) for a, b in zip(counts, match.groups())]
    # Real interlacing has one dominant field order; busy synthetic motion fools idet into a TFF/BFF mix.
    dominant, total = max(counts[0], counts[1]), sum(counts)
    share = dominant / total if total else 0.0
    consistent = dominant and dominant / (counts[0] + counts[1]) >= cfg.field_order_dominance
    scan = "unknown" if total == 0 else ("interlaced" if share >= cfg.interlaced_share and consistent else "progressive")
    return {"scan": scan, "tff": counts[0], "bff": counts[1], "progressive": counts[2], "interlaced_share": round(share, 3)}


def _windows(duration: float, count: int) -> list[float]:
    if duration < 10 or count <= 1:
        return [0.0]
    return [duration * (i + 1) / (count + 1) for i in range(count)]


def video_map(media: Media) -> str:
    """ffmpeg's -map for the analysed video stream (the real picture, not cover art)."""
    return "0:v:0" if media.video.stream is None else f"0:{media.video.stream}"


def measure_vfr(path: Path, media: Media, profile: Profile, origin: float = 0.0) -> bool:
    """True when frame durations vary by more than 10 % in any of a few windows spread over the file
    (ffprobe's intervals are in the container's clock: they start at `origin`)."""
    cfg = profile.video
    select = "v:0" if media.video.stream is None else str(media.video.stream)
    for start in _windows(media.duration_s, cfg.vfr_windows):
        args = ["-v", "error", "-select_streams", select, "-read_intervals", f"{origin + start:.2f}%+{cfg.vfr_window_s}",
                "-show_entries", "packet=pts_time", "-of", "csv=p=0", str(path)]
        out = tools.run("ffprobe", args, timeout=server().safety.probe_timeout_s, check=False)
        if is_variable(out.stdout.decode("utf-8", "replace")):
            return True
    return False


def is_variable(text: str) -> bool:
    """Pure: do the packet times in `text` (one per line) have frame durations varying by > 10 %?"""
    times = sorted(t for t in (_float(x.strip().rstrip(",")) for x in text.split()) if t is not None and math.isfinite(t))
    deltas = [b - a for a, b in zip(times, times[1:]) if b > a]
    if len(deltas) < 10:
        return False
    deltas.sort()
    low, high = deltas[len(deltas) // 20], deltas[-1 - len(deltas) // 20]
    return high > low * 1.1 + 1e-4


def tech_findings(media: Media, profile: Profile) -> list[Finding]:
    """All tech.* rules of SPEC.md, each with measured value and limit in evidence."""
    found: list[Finding] = []
    for rule in (_duration, _file_size, _container_rule, _codec, _resolution, _aspect, _frame_rate, _vfr,
                 _interlace, _video_bitrate, _audio_rules):
        found += rule(media, profile)
    return found


def _f(code: str, severity: str, message: str, value: Any, limit: Any) -> Finding:
    return Finding(code, severity, message, evidence={"value": value, "limit": limit})


def _duration(m: Media, p: Profile) -> list[Finding]:
    lo, hi = p.duration.min_s, p.duration.max_s
    if lo <= m.duration_s <= hi:
        return []
    return [_f("tech.duration", p.duration.severity,
               f"时长 {m.duration_s/60:.1f} 分钟，要求 {lo/60:.0f}–{hi/60:.0f} 分钟", m.duration_s, [lo, hi])]


def _file_size(m: Media, p: Profile) -> list[Finding]:
    if m.size_bytes <= p.file.max_size_bytes:
        return []
    return [_f("tech.file_size", p.file.size_severity,
               f"文件大小 {m.size_bytes/1e6:.0f} MB，超过 {p.file.max_size_bytes/1e6:.0f} MB", m.size_bytes, p.file.max_size_bytes)]


def _container_rule(m: Media, p: Profile) -> list[Finding]:
    if m.container in p.file.containers:
        return []
    return [_f("tech.container", p.file.container_severity,
               f"封装格式 {m.container}，要求 {'/'.join(p.file.containers).upper()}", m.container, p.file.containers)]


def _codec(m: Media, p: Profile) -> list[Finding]:
    if m.video.codec in p.video.codecs:
        return []
    return [_f("tech.video_codec", p.video.codec_severity,
               f"视频编码 {m.video.codec}，要求 {'/'.join(p.video.codecs).upper()}", m.video.codec, p.video.codecs)]


def _resolution(m: Media, p: Profile) -> list[Finding]:
    v = m.video
    if (v.width, v.height) == (p.video.width, p.video.height):
        return []
    return [_f("tech.resolution", p.video.resolution_severity,
               f"分辨率 {v.width}×{v.height}，要求 {p.video.width}×{p.video.height}",
               f"{v.width}x{v.height}", f"{p.video.width}x{p.video.height}")]


def _aspect(m: Media, p: Profile) -> list[Finding]:
    want = _rate(p.video.aspect.replace(":", "/"))
    have = _rate(m.video.dar.replace(":", "/"))
    if want and abs(have - want) / want <= p.video.aspect_tolerance:
        return []
    return [_f("tech.aspect_ratio", p.video.aspect_severity,
               f"画面比例 {m.video.dar}，要求 {p.video.aspect}", m.video.dar, p.video.aspect)]


def _frame_rate(m: Media, p: Profile) -> list[Finding]:
    if abs(m.video.fps - p.video.fps) <= p.video.fps_tolerance:
        return []
    return [_f("tech.frame_rate", p.video.fps_severity,
               f"帧率 {m.video.fps:g} fps，要求 {p.video.fps:g} fps", m.video.fps, p.video.fps)]


def _vfr(m: Media, p: Profile) -> list[Finding]:
    if not m.video.vfr:
        return []
    return [_f("tech.vfr", p.video.vfr_severity, "可变帧率（VFR），要求恒定帧率", True, False)]


def _interlace(m: Media, p: Profile) -> list[Finding]:
    if m.video.scan != "interlaced":
        return []
    return [_f("tech.interlaced", p.video.interlace_severity, "隔行扫描画面，要求逐行扫描", "interlaced", "progressive")]


def _video_bitrate(m: Media, p: Profile) -> list[Finding]:
    rate = m.video.bit_rate or m.bit_rate
    if rate is None or rate >= p.video.bitrate_review_below:
        return []
    return [_f("tech.video_bitrate", p.video.bitrate_severity,
               f"视频码率 {rate/1e6:.1f} Mbps，建议不低于 {p.video.bitrate_review_below/1e6:.0f} Mbps",
               rate, p.video.bitrate_review_below)]


def _audio_rules(m: Media, p: Profile) -> list[Finding]:
    a, cfg = m.audio, p.audio
    if a is None:
        return [_f("tech.no_audio", cfg.no_audio_severity, "没有音频轨", None, "audio required")] if cfg.required else []
    found = []
    if a.codec not in cfg.codecs:
        found.append(_f("tech.audio_codec", cfg.codec_severity, f"音频编码 {a.codec}，要求 {'/'.join(cfg.codecs).upper()}", a.codec, cfg.codecs))
    if a.bit_rate is not None and a.bit_rate < cfg.min_bitrate:
        found.append(_f("tech.audio_bitrate", cfg.bitrate_severity, f"音频码率 {a.bit_rate/1000:.0f} kbps，建议 ≥ {cfg.min_bitrate/1000:.0f} kbps", a.bit_rate, cfg.min_bitrate))
    if a.sample_rate not in cfg.sample_rates:
        found.append(_f("tech.audio_sample_rate", cfg.sample_rate_severity, f"音频采样率 {a.sample_rate} Hz，建议 {cfg.sample_rates[0]} Hz", a.sample_rate, cfg.sample_rates))
    return found
