"""Signal pass: picture and sound faults from ONE decode of the file.

ffmpeg's own filters measure (on a downscaled, subsampled copy of the picture
and on the original audio): black (blackdetect), frozen picture (freezedetect),
letterbox/pillarbox (cropdetect), loudness and true peak (ebur128), dead air
(silencedetect, and 0.5 s windows that hold only room tone: quiet, with an untonal spectrum,
so a music bed is not dead air) and clipping (windowed astats). The same decode also feeds the
frame consumers; the sound's filters run in an audio-only decode beside it (see decode.py). This module builds
the filter chains, parses their log (pure functions) and turns it into findings.
"""
from __future__ import annotations

import bisect
import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from pipelines.media import decode
from pipelines.media.limits import server
from pipelines.frames import FrameConsumer, FrameSpec
from pipelines.profile import Profile
from pipelines.domain import Finding, Media, StageOutput

NUM = r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"  # a number as ffmpeg prints it (12, 1.5, 1e-05)
BLACK_RE = re.compile(rf"black_start:\s*({NUM})\s+black_end:\s*({NUM})")
FREEZE_START_RE = re.compile(rf"freeze_start:\s*({NUM})")
FREEZE_END_RE = re.compile(rf"freeze_end:\s*({NUM})")
CROP_RE = re.compile(rf"w:(-?\d+) h:(-?\d+) x:(-?\d+) y:(-?\d+) .*?t:\s*({NUM})")
SILENCE_START_RE = re.compile(rf"silence_start:\s*(-?{NUM})")
SILENCE_END_RE = re.compile(rf"silence_end:\s*({NUM})")
LOUDNESS_RE = re.compile(rf"^\s*I:\s*(-?{NUM}|-inf) LUFS")
TRUE_PEAK_RE = re.compile(rf"^\s*Peak:\s*(-?{NUM}|-inf) dBFS")
DECODER_ERROR_RE = re.compile(r"^\[(NULL|h264|hevc|mpeg4|mpeg2video|vp9|av1|aac|mp3\w*) @ [^]]+\] .*(error|concealing|invalid|corrupt|missing)", re.I)


@dataclass
class Analysis:
    """What the filters measured, in source seconds (before becoming findings)."""

    width: int = 320
    height: int = 180
    duration_s: float = 0.0
    black: list[tuple[float, float]] = field(default_factory=list)
    frozen: list[tuple[float, float]] = field(default_factory=list)
    crops: list[tuple[float, int, int, int, int]] = field(default_factory=list)  # t, w, h, x, y
    silence: list[tuple[float, float]] = field(default_factory=list)
    room_tone: list[float] = field(default_factory=list)  # starts of windows holding only room tone
    clipped_windows: list[float] = field(default_factory=list)
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None
    decode_errors: list[str] = field(default_factory=list)   # a sample of the decoder's complaints ...
    decode_error_count: int = 0                                 # ... and how many there were
    decoded_s: float = 0.0


@dataclass
class SignalResult:
    """The stage output plus the shared decode's log (for consumers and timing)."""

    output: StageOutput
    log: decode.DecodeLog
    analysis: Analysis


def analysis_size(media: Media, profile: Profile) -> tuple[int, int]:
    """Size of the downscaled picture the video filters look at (even numbers, never above the source's)."""
    src_w, src_h = max(1, media.video.width), max(1, media.video.height)
    w = max(2, min(profile.signal.analysis_width, src_w - src_w % 2))
    h = max(2, min(int(round(w * src_h / src_w / 2)) * 2, src_h - src_h % 2))
    return w, h


def video_chain(media: Media, profile: Profile) -> str:
    """Subsample, downscale, then black/freeze/crop detection into a sink."""
    s = profile.signal
    w, h = analysis_size(media, profile)
    return (f"fps={s.analysis_fps},scale={w}:{h}:flags=fast_bilinear,"
            f"blackdetect=d={s.black.min_duration_s}:pix_th={s.black.pixel_threshold}:pic_th={s.black.picture_threshold},"
            f"freezedetect=n={s.frozen.noise_db}dB:d={s.frozen.detect_s},"
            f"cropdetect=limit={s.letterbox.limit}:round=2:reset=1:skip=0,nullsink")


def audio_chain(media: Media, profile: Profile, stats_file: Path, spectral_file: Path | None = None) -> str:
    """Loudness/true peak, silences, per-window peak and RMS statistics (clipping, dead air) into a sink;
    with `spectral_file`, a branch measuring each window's spectral flatness (music is tonal, room tone is not)."""
    s = profile.signal
    window = max(1, int(round(media.audio.sample_rate * s.clipping.window_s)))
    main = (f"ebur128=peak=true:framelog=verbose,"
            f"silencedetect=n={s.silence.noise_db}dB:d={min(s.silence.min_duration_s, s.silence.detect_s)},"
            f"asetnsamples=n={window},"
            f"astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=Peak_level+Flat_factor+RMS_level,"
            f"ametadata=mode=print:file={_filter_path(stats_file)},anullsink")
    if spectral_file is None:
        return main
    rate = s.silence.spectral_rate
    spectral = (f"aresample={rate},highpass=f={s.silence.spectral_highpass_hz},"
                f"aspectralstats=win_size={_pow2(rate * s.clipping.window_s)}:overlap=0,"
                f"ametadata=mode=print:key=lavfi.aspectralstats.1.flatness:file={_filter_path(spectral_file)},anullsink")
    return f"asplit=2[sig_main][sig_spec];[sig_main]{main};[sig_spec]{spectral}"


def _pow2(samples: float) -> int:
    """The power of two nearest `samples` (FFT window)."""
    return 2 ** max(4, round(math.log2(max(1.0, samples))))


def _filter_path(path: Path) -> str:
    """Escape a file path for use as a filter option value."""
    return str(path).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'").replace(",", "\\,")


def run_signal(path: Path, media: Media, profile: Profile, workdir: Path,
               consumers: Sequence[FrameConsumer] = (), frame_spec: FrameSpec | None = None,
               wav_out: Path | None = None, progress: decode.ProgressFn | None = None) -> SignalResult:
    """The single decode of the picture (signal filters + frame consumers), with the sound's filters
    (+ optional speech WAV) in a second, audio-only ffmpeg running beside it.

    One process doing both serialises the sound filters (about 10 CPU-seconds for 15 min of 48 kHz
    stereo: loudness with true peak, spectra) with the picture's, so the picture decode idled
    waiting on them (1.83x decode-only, measured); two processes keep both cores on the decode.
    """
    stats_file, spectral_file = workdir / "astats.txt", workdir / "spectral.txt"
    parser = LogParser(media, profile)
    lock = threading.Lock()

    def feed(line: str) -> None:  # both processes' logs, parsed as ffmpeg writes them (never held whole)
        with lock:
            parser.feed(line)

    has_audio = media.audio is not None
    timeout_s = max(600.0, media.duration_s * 3)
    picture = decode.DecodePlan(
        path=path, video_chain=video_chain(media, profile), frames=frame_spec if consumers else None,
        consumers=consumers, source_size=(media.video.width, media.video.height), timeout_s=timeout_s,
        progress=progress, input_options=["-skip_frame", "noref"] if profile.signal.skip_nonref_frames else [],
        video_stream=media.video.stream, on_line=feed)
    sound = decode.DecodePlan(path=path, audio_chain=audio_chain(media, profile, stats_file, spectral_file),
                              wav_out=wav_out, timeout_s=timeout_s, on_line=feed) if has_audio else None
    log = decode.run_beside(picture, sound)
    analysis = parser.result(_read_stats(stats_file), _read_stats(spectral_file))
    analysis.decoded_s = log.decoded_s
    return SignalResult(StageOutput(findings(analysis, profile), metrics(analysis)), log, analysis)


def _read_stats(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def parse_log(lines: list[str], astats: str, media: Media, profile: Profile, spectral: str = "") -> Analysis:
    """Pure parser of the filters' log lines and the astats (and spectral flatness) metadata files."""
    parser = LogParser(media, profile)
    for line in lines:
        parser.feed(line)
    return parser.result(astats, spectral)


class LogParser:
    """The filters' log, one line at a time (only what was measured is kept)."""

    def __init__(self, media: Media, profile: Profile):
        w, h = analysis_size(media, profile)
        self.media, self.profile = media, profile
        self.a = Analysis(width=w, height=h, duration_s=media.duration_s)
        self.freeze_start: float | None = None
        self.silence_start: float | None = None
        self.error_sample = server().safety.decode_error_sample  # complaints kept verbatim (a broken file logs millions)

    def feed(self, line: str) -> None:
        a = self.a
        if m := BLACK_RE.search(line):
            a.black.append((float(m[1]), float(m[2])))
        elif m := FREEZE_START_RE.search(line):
            self.freeze_start = float(m[1])
        elif (m := FREEZE_END_RE.search(line)) and self.freeze_start is not None:
            a.frozen.append((self.freeze_start, float(m[1])))
            self.freeze_start = None
        elif "crop=" in line and (m := CROP_RE.search(line)):
            a.crops.append((float(m[5]), int(m[1]), int(m[2]), int(m[3]), int(m[4])))
        elif m := SILENCE_START_RE.search(line):
            self.silence_start = max(0.0, float(m[1]))
        elif (m := SILENCE_END_RE.search(line)) and self.silence_start is not None:
            a.silence.append((self.silence_start, float(m[1])))
            self.silence_start = None
        elif m := LOUDNESS_RE.search(line):
            a.loudness_lufs = _db(m[1])
        elif m := TRUE_PEAK_RE.search(line):
            a.true_peak_dbtp = _db(m[1])
        elif DECODER_ERROR_RE.search(line):
            a.decode_error_count += 1
            if len(a.decode_errors) < self.error_sample:
                a.decode_errors.append(line)

    def result(self, astats: str, spectral: str = "") -> Analysis:
        """The Analysis once the log has ended (open stretches close at the end of the video)."""
        a, duration = self.a, self.media.duration_s
        if self.freeze_start is not None:
            a.frozen.append((self.freeze_start, duration))
        if self.silence_start is not None:
            a.silence.append((self.silence_start, duration))
        a.clipped_windows = parse_astats(astats, self.profile)
        a.room_tone = room_tone_windows(parse_metadata(astats, "lavfi.astats.Overall.RMS_level"),
                                        parse_metadata(spectral, "lavfi.aspectralstats.1.flatness"), self.profile)
        return a


def parse_metadata(text: str, key: str) -> list[tuple[float, float]]:
    """(pts_time, value) of one key in an `ametadata=mode=print` file (-inf for a silent window)."""
    found: list[tuple[float, float]] = []
    t = 0.0
    for line in text.splitlines():
        if line.startswith("frame:") and "pts_time:" in line:
            parsed = _float("=" + line.rsplit("pts_time:", 1)[1])  # a damaged line keeps the last time
            t = t if parsed is None else parsed
        elif line.startswith(key + "="):
            value = _float(line)
            found.append((t, float("-inf") if value is None else value))
    return found


def room_tone_windows(levels: list[tuple[float, float]], flatness: list[tuple[float, float]],
                      profile: Profile) -> list[float]:
    """Starts of windows quieter than `room_tone_db` whose spectrum is noise-like (flatness at least
    `music_flatness`); a window without a spectral measure counts by its level alone."""
    cfg = profile.signal.silence
    flat = dict(flatness)
    times = sorted(flat)
    dead = []
    for t, rms in levels:
        if rms >= cfg.room_tone_db:
            continue
        near = _nearest(times, t)
        if near is None or abs(near - t) > 0.5 or not flat[near] < cfg.music_flatness or rms < cfg.noise_db:
            dead.append(t)
    return dead


def _nearest(times: list[float], t: float) -> float | None:
    if not times:
        return None
    i = bisect.bisect_left(times, t)
    return min(times[max(0, i - 1):i + 1], key=lambda x: abs(x - t))


def _db(text: str) -> float | None:
    return None if text == "-inf" else float(text)


def parse_astats(text: str, profile: Profile) -> list[float]:
    """Start times of audio windows that clip.

    A window clips when its peak reaches full scale and either stays flat there
    (PCM: astats flat factor) or overshoots it (a lossy decoder's float output
    rings above 0 dBFS around clipped plateaus).
    """
    cfg = profile.signal.clipping
    clipped: list[float] = []
    t, peak, flat = 0.0, None, None
    for line in text.splitlines() + ["frame:end"]:
        if line.startswith("frame:"):
            if peak is not None and peak >= cfg.peak_level_db and (peak >= cfg.overshoot_db or (flat or 0.0) >= cfg.min_flat_factor):
                clipped.append(t)
            t = _float("=" + line.rsplit("pts_time:", 1)[1]) or t if "pts_time:" in line else t
            peak = flat = None
        elif line.startswith("lavfi.astats.Overall.Peak_level="):
            peak = _float(line)
        elif line.startswith("lavfi.astats.Overall.Flat_factor="):
            flat = _float(line)
    return clipped


def _float(line: str) -> float | None:
    try:
        return float(line.split("=", 1)[1])
    except ValueError:
        return None


def findings(a: Analysis, profile: Profile) -> list[Finding]:
    """All signal.* findings from one Analysis."""
    return (_black(a, profile) + _frozen(a, profile) + _letterbox(a, profile) + _decode_errors(a, profile)
            + _loudness(a, profile) + _silence(a, profile) + _clipping(a, profile))


def _span(code: str, severity: str, message: str, start: float, end: float, **evidence: Any) -> Finding:
    return Finding(code, severity, message, round(start, 2), round(end, 2), evidence)


def _black(a: Analysis, p: Profile) -> list[Finding]:
    cfg = p.signal.black
    return [_span("signal.black", "fail" if e - s >= cfg.fail_duration_s else cfg.severity,
                  f"黑屏 {e - s:.1f} 秒", s, e, duration_s=round(e - s, 2), limit_s=cfg.min_duration_s)
            for s, e in a.black]


def _frozen(a: Analysis, p: Profile) -> list[Finding]:
    cfg = p.signal.frozen
    found = []
    for s, e in a.frozen:
        limit = frozen_limit(a, p, e - s)
        if inner_length(s, e, a.duration_s, cfg) >= limit:
            found.append(_span("signal.frozen", cfg.severity, f"画面静止（冻结）{e - s:.0f} 秒", s, e,
                               duration_s=round(e - s, 2), limit_s=limit, still_share=round(still_share(a, e - s), 3)))
    return found


def inner_length(start: float, end: float, duration: float, cfg: Any) -> float:
    """How long a still or quiet stretch counts: one that touches the start or the end of the video (within
    `edge_touch_s`) is a title or end card, or a lead-in; it counts only beyond `edge_allowance_s` there."""
    if start <= cfg.edge_touch_s:
        start = max(start, cfg.edge_allowance_s)
    if end >= duration - cfg.edge_touch_s:
        end = min(end, duration - cfg.edge_allowance_s)
    return end - start


def still_share(a: Analysis, leave_out_s: float = 0.0) -> float:
    """Share of the video's time spent on a still picture, not counting `leave_out_s` of one still stretch
    (whether the video *otherwise* moves)."""
    rest = a.duration_s - leave_out_s
    return (sum(e - s for s, e in a.frozen) - leave_out_s) / rest if rest > 0 else 0.0


def frozen_limit(a: Analysis, p: Profile, leave_out_s: float = 0.0) -> float:
    """How long a still picture may last: short where the rest of the video moves, long in a slide lesson."""
    cfg = p.signal.frozen
    return cfg.static_min_s if still_share(a, leave_out_s) > cfg.static_share else cfg.live_min_s


def _letterbox(a: Analysis, p: Profile) -> list[Finding]:
    cfg = p.signal.letterbox
    step = 1.0 / p.signal.analysis_fps
    runs = _bar_runs(a, cfg.min_bar_share)
    return [_span("signal.letterbox", cfg.severity,
                  f"画面有{'上下' if kind == 'letterbox' else '左右'}黑边（{kind}）", s, e + step,
                  kind=kind, bars_share=round(share, 3), limit=cfg.min_bar_share, key=kind)
            for kind, s, e, share in runs if e + step - s >= cfg.min_duration_s]


def bar_kind(w: int, h: int, x: int, y: int, width: int, height: int, min_share: float) -> tuple[str, float] | None:
    """'letterbox'/'pillarbox' when bars cover two opposite sides symmetrically and the others not at all.

    A dark slide with centred content has margins on all four sides, so it is not a bar.
    """
    if w <= 0 or h <= 0:
        return None
    top, bottom, left, right = y, height - y - h, x, width - x - w
    tol = max(2, round(0.01 * max(width, height)))
    if left <= tol and right <= tol and min(top, bottom) >= min_share * height and abs(top - bottom) <= 2 * tol:
        return "letterbox", (top + bottom) / height
    if top <= tol and bottom <= tol and min(left, right) >= min_share * width and abs(left - right) <= 2 * tol:
        return "pillarbox", (left + right) / width
    return None


def _bar_runs(a: Analysis, min_share: float) -> list[tuple[str, float, float, float]]:
    """Consecutive analysed frames with the same kind of bars -> (kind, start, end, bar share)."""
    runs: list[tuple[str, float, float, float]] = []
    current: list[Any] | None = None
    for t, w, h, x, y in a.crops:
        kind = bar_kind(w, h, x, y, a.width, a.height, min_share)
        if kind and current and current[0] == kind[0]:
            current[2] = t
            continue
        if current:
            runs.append(tuple(current))
        current = [kind[0], t, t, kind[1]] if kind else None
    if current:
        runs.append(tuple(current))
    return runs


def _decode_errors(a: Analysis, p: Profile) -> list[Finding]:
    cfg = p.signal.decode_errors
    n = max(a.decode_error_count, len(a.decode_errors))
    if n < cfg.review_at:
        return []
    return [Finding("signal.decode_errors", "fail" if n >= cfg.fail_at else "review",
                    f"解码错误 {n} 处（文件可能损坏）", None, None,
                    {"count": n, "limit": cfg.review_at, "sample": a.decode_errors[:5]})]


def _loudness(a: Analysis, p: Profile) -> list[Finding]:
    cfg = p.signal.loudness
    lufs = a.loudness_lufs
    if lufs is None or cfg.review_below_lufs <= lufs <= cfg.review_above_lufs:
        return []
    severity = "fail" if lufs < cfg.fail_below_lufs else cfg.severity
    word = "过小" if lufs < cfg.review_below_lufs else "过大"
    return [Finding("signal.loudness", severity, f"整体响度{word}：{lufs:.1f} LUFS", None, None,
                    {"value": lufs, "limit": [cfg.review_below_lufs, cfg.review_above_lufs],
                     "true_peak_dbtp": a.true_peak_dbtp})]


def _silence(a: Analysis, p: Profile) -> list[Finding]:
    cfg = p.signal.silence
    spans = join_spans(a.silence + merge_windows(a.room_tone, p.signal.clipping.window_s), cfg.join_gap_s)
    found = []
    for s, e in spans:
        length = inner_length(s, e, a.duration_s, cfg)
        if length >= cfg.min_duration_s:
            severity = "fail" if length >= cfg.fail_duration_s else cfg.severity
            found.append(_span("signal.silence", severity, f"长时间无声（无讲解）{e - s:.0f} 秒", s, e,
                               duration_s=round(e - s, 2), limit_s=cfg.min_duration_s, fail_s=cfg.fail_duration_s,
                               room_tone_db=cfg.room_tone_db))
    return found


def join_spans(spans: list[tuple[float, float]], gap_s: float) -> list[tuple[float, float]]:
    """Union of (start, end) spans; spans closer than `gap_s` join."""
    joined: list[list[float]] = []
    for s, e in sorted(spans):
        if joined and s - joined[-1][1] <= gap_s:
            joined[-1][1] = max(joined[-1][1], e)
        else:
            joined.append([s, e])
    return [(s, e) for s, e in joined]


def _clipping(a: Analysis, p: Profile) -> list[Finding]:
    cfg = p.signal.clipping
    spans = merge_windows(a.clipped_windows, cfg.window_s)
    return [_span("signal.clipping", cfg.severity, f"音频削波失真 {e - s:.1f} 秒", s, e,
                  duration_s=round(e - s, 2), limit_s=cfg.min_duration_s)
            for s, e in spans if e - s >= cfg.min_duration_s]


def merge_windows(starts: list[float], window_s: float) -> list[tuple[float, float]]:
    """Join adjacent fixed-size windows (given by start time) into (start, end) spans."""
    spans: list[list[float]] = []
    for t in sorted(starts):
        if spans and t - spans[-1][1] <= window_s * 0.51:
            spans[-1][1] = t + window_s
        else:
            spans.append([t, t + window_s])
    return [(s, e) for s, e in spans]


def metrics(a: Analysis) -> dict[str, Any]:
    """Measured values for the report's metrics.signal."""
    return {
        "loudness_lufs": a.loudness_lufs, "true_peak_dbtp": a.true_peak_dbtp,
        "black_s": round(sum(e - s for s, e in a.black), 2), "frozen_s": round(sum(e - s for s, e in a.frozen), 2),
        "silence_s": round(sum(e - s for s, e in a.silence), 2), "clipped_windows": len(a.clipped_windows),
        "room_tone_s": round(len(a.room_tone) * 0.5, 2),
        "decode_errors": max(a.decode_error_count, len(a.decode_errors)), "decoded_s": round(a.decoded_s, 2),
    }
