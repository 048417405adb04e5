"""Probe: what the file is (ffprobe + a short idet sample), checked against the profile.

Safety limits are enforced here, before anything decodes the whole file.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipelines import tools
from pipelines.errors import InputUnreadable, ToolError
from pipelines.profile import Profile
from pipelines.domain import AudioInfo, Finding, Media, VideoInfo

IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "gif", "bmp_pipe", "tiff_pipe"}
IDET_RE = re.compile(r"Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)")


@dataclass
class ProbeResult:
    """The measured media description and the tech.* findings it raises."""

    media: Media
    findings: list[Finding]
    metrics: dict[str, Any]


def probe(path: Path, profile: Profile) -> ProbeResult:
    """Describe `path`, enforce safety limits, measure scan type and frame timing, raise tech.* findings."""
    _check_path(path)
    raw = run_ffprobe(path, profile.safety.probe_timeout_s)
    media = parse_ffprobe(raw, path)
    check_safety(media, profile)
    idet = measure_interlace(path, media, profile)
    if idet["scan"] != "unknown":  # static pictures give idet nothing to measure: keep the header's word
        media.video.scan = idet["scan"]
    media.video.vfr = media.video.vfr or measure_vfr(path, profile)
    return ProbeResult(media, tech_findings(media, profile), {"idet": idet})


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
        detail = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else str(exc)
        raise InputUnreadable(f"无法解析的媒体文件 / not a readable media file: {detail}") from None
    try:
        return json.loads(out.stdout or b"{}")
    except json.JSONDecodeError:
        raise InputUnreadable("ffprobe returned no usable description") from None


def parse_ffprobe(raw: dict[str, Any], path: Path) -> Media:
    """Pure parser: ffprobe JSON -> Media. Raises InputUnreadable when there is no usable video."""
    fmt = raw.get("format") or {}
    streams = raw.get("streams") or []
    video = _first(streams, "video")
    if not fmt or fmt.get("format_name") in IMAGE_FORMATS or (video and _is_still(video, fmt)):
        raise InputUnreadable("不是视频：静态图片或无法识别的格式 / not a video: still image or unknown format")
    if video is None:
        kind = "audio-only file" if _first(streams, "audio") else "no video stream"
        raise InputUnreadable(f"没有视频流 / {kind}")
    duration = _float(fmt.get("duration")) or _float(video.get("duration"))
    if not duration or duration <= 0:
        raise InputUnreadable("无法确定时长 / duration unknown (truncated or not a video)")
    return Media(
        container=_container(fmt),
        duration_s=round(duration, 3),
        size_bytes=int(_float(fmt.get("size")) or path.stat().st_size),
        bit_rate=_int(fmt.get("bit_rate")),
        video=_video_info(video),
        audio=_audio_info(_first(streams, "audio")),
    )


def _first(streams: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    for s in streams:
        if s.get("codec_type") == kind and not (s.get("disposition") or {}).get("attached_pic"):
            return s
    return None


def _is_still(video: dict[str, Any], fmt: dict[str, Any]) -> bool:
    frames = _int(video.get("nb_frames"))
    return video.get("codec_name") in {"png", "mjpeg", "bmp", "webp", "gif"} and (frames or 0) <= 1 \
        or (frames is not None and frames <= 1)


def _container(fmt: dict[str, Any]) -> str:
    name = fmt.get("format_name", "")
    if name.startswith("mov,mp4"):
        brand = (fmt.get("tags") or {}).get("major_brand", "").strip()
        return "mov" if brand == "qt" else "mp4"
    return name.split(",")[0]


def _video_info(s: dict[str, Any]) -> VideoInfo:
    r_rate, avg_rate = _rate(s.get("r_frame_rate")), _rate(s.get("avg_frame_rate"))
    fps = avg_rate or r_rate
    vfr = bool(r_rate and avg_rate and abs(r_rate - avg_rate) / r_rate > 0.01)
    field_order = s.get("field_order", "")
    scan = "progressive" if field_order == "progressive" else ("interlaced" if field_order in {"tt", "bb", "tb", "bt"} else "unknown")
    width, height, dar = int(s.get("width") or 0), int(s.get("height") or 0), _dar(s)
    if _rotation(s) % 180 == 90:  # a phone held upright: shown (and decoded by ffmpeg) turned a quarter
        width, height, dar = height, width, ":".join(reversed(dar.split(":")))
    return VideoInfo(
        codec=s.get("codec_name", "unknown"), width=width, height=height,
        dar=dar, fps=round(fps, 3), vfr=vfr, bit_rate=_int(s.get("bit_rate")),
        pix_fmt=s.get("pix_fmt", "unknown"), scan=scan,
    )


def _rotation(s: dict[str, Any]) -> int:
    """Display rotation in degrees (0..359) from the display matrix side data or the legacy tag."""
    for side in s.get("side_data_list") or []:
        if "rotation" in side:
            return int(_float(side["rotation"]) or 0) % 360
    return int(_float((s.get("tags") or {}).get("rotate")) or 0) % 360


def _audio_info(s: dict[str, Any] | None) -> AudioInfo | None:
    if s is None:
        return None
    return AudioInfo(codec=s.get("codec_name", "unknown"), sample_rate=int(_float(s.get("sample_rate")) or 0),
                     channels=int(s.get("channels") or 0), bit_rate=_int(s.get("bit_rate")))


def _dar(s: dict[str, Any]) -> str:
    dar = s.get("display_aspect_ratio")
    if dar and dar != "0:1":
        return dar
    w, h = int(s.get("width") or 0), int(s.get("height") or 0)
    if not w or not h:
        return "0:1"
    ratio = Fraction(w, h)
    return f"{ratio.numerator}:{ratio.denominator}"


def _rate(text: str | None) -> float:
    try:
        value = Fraction(text or "0/1")
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(value)


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def check_safety(media: Media, profile: Profile) -> None:
    """Refuse inputs beyond the profile's safety limits before any full decode."""
    limits = profile.safety
    v = media.video
    problems = []
    if v.width <= 0 or v.height <= 0:
        problems.append(f"invalid dimensions {v.width}x{v.height}")
    if v.width > limits.max_width or v.height > limits.max_height:
        problems.append(f"dimensions {v.width}x{v.height} exceed {limits.max_width}x{limits.max_height}")
    if media.duration_s > limits.max_duration_s:
        problems.append(f"duration {media.duration_s:.0f}s exceeds {limits.max_duration_s}s")
    if media.size_bytes > limits.max_size_bytes:
        problems.append(f"size {media.size_bytes} bytes exceeds {limits.max_size_bytes}")
    if v.fps > limits.max_fps:
        problems.append(f"frame rate {v.fps} exceeds {limits.max_fps}")
    if problems:
        raise InputUnreadable("超出安全限制 / over the safety limits: " + "; ".join(problems))


def measure_interlace(path: Path, media: Media, profile: Profile) -> dict[str, Any]:
    """Classify scan type with ffmpeg idet over a few short windows (not only the header flag)."""
    cfg = profile.video
    counts = [0, 0, 0]
    for start in _windows(media.duration_s, cfg.idet_windows):
        args = ["-hide_banner", "-nostdin", "-ss", f"{start:.2f}", "-i", str(path), "-map", "0:v:0",
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


def measure_vfr(path: Path, profile: Profile, seconds: float = 20.0) -> bool:
    """True when frame durations in the first `seconds` vary by more than 10 % (variable frame rate)."""
    args = ["-v", "error", "-select_streams", "v:0", "-read_intervals", f"%+{seconds}",
            "-show_entries", "packet=pts_time", "-of", "csv=p=0", str(path)]
    out = tools.run("ffprobe", args, timeout=profile.safety.probe_timeout_s, check=False)
    times = sorted(t for t in (_float(x.strip().rstrip(",")) for x in out.stdout.decode().split()) if t is not None)
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
