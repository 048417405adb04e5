"""Typed models of the profile sections, validated when a profile loads.

Every key of config/defaults/*.yaml has a field here with its type and range; the
YAML stays the one place for default values. `build()` turns plain YAML data into
these frozen dataclasses, refusing an unknown or missing key, a wrong type and a value
out of range, naming the key and the file. Values are kept as written (an int given
for a float stays an int), so reports print the numbers the profile holds.
"""
from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pipelines.errors import ProfileError


@dataclass(frozen=True)
class Bounds:
    """Range of a number field (inclusive unless `gt`)."""

    ge: float | None = None
    le: float | None = None
    gt: float | None = None

    def problem(self, value: float) -> str | None:
        if self.gt is not None and not value > self.gt:
            return f"must be > {self.gt:g}"
        if self.ge is not None and value < self.ge:
            return f"must be >= {self.ge:g}"
        if self.le is not None and value > self.le:
            return f"must be <= {self.le:g}"
        return None


Seconds = Annotated[float, Bounds(ge=0)]          # a duration; 0 allowed
Positive = Annotated[float, Bounds(gt=0)]
NonNegative = Annotated[float, Bounds(ge=0)]
Share = Annotated[float, Bounds(ge=0, le=1)]      # a ratio or probability
Luma = Annotated[float, Bounds(ge=0, le=255)]
Confidence = Annotated[float, Bounds(ge=0, le=100)]
Count = Annotated[int, Bounds(ge=0)]
Size = Annotated[int, Bounds(ge=1)]               # pixels, frames, tiles: at least one
Severity = Literal["info", "review", "fail"]


class Section:
    """Base of every section: attribute access, `section["key"]` and a plain-dict copy."""

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def problem(self) -> str | None:
        """A rule across fields that does not hold (checked after the fields)."""
        return None


# --- core.yaml -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Languages(Section):
    speech: list[str]
    text: list[str]


@dataclass(frozen=True)
class Duration(Section):
    min_s: Seconds
    max_s: Seconds
    severity: Severity

    def problem(self) -> str | None:
        return "min_s must not exceed max_s" if self.min_s > self.max_s else None


@dataclass(frozen=True)
class FileRules(Section):
    max_size_bytes: Size
    size_severity: Severity
    containers: list[str]
    container_severity: Severity


@dataclass(frozen=True)
class Video(Section):
    codecs: list[str]
    codec_severity: Severity
    width: Size
    height: Size
    resolution_severity: Severity
    aspect: str
    aspect_tolerance: NonNegative
    aspect_severity: Severity
    fps: Positive
    fps_tolerance: NonNegative
    fps_severity: Severity
    vfr_severity: Severity
    interlace_severity: Severity
    idet_frames: Size
    idet_windows: Size
    idet_intl_thres: Positive
    interlaced_share: Share
    field_order_dominance: Share
    bitrate_review_below: NonNegative
    bitrate_severity: Severity
    vfr_windows: Size
    vfr_window_s: Positive

    def problem(self) -> str | None:
        return None if re.fullmatch(r"\d+:\d+", self.aspect) else f"aspect must read W:H, got {self.aspect!r}"


@dataclass(frozen=True)
class Audio(Section):
    required: bool
    no_audio_severity: Severity
    codecs: list[str]
    codec_severity: Severity
    min_bitrate: NonNegative
    bitrate_severity: Severity
    sample_rates: list[Size]
    sample_rate_severity: Severity
    max_streams: Size
    streams_severity: Severity


@dataclass(frozen=True)
class Black(Section):
    pixel_threshold: Share
    picture_threshold: Share
    min_duration_s: Seconds
    fail_duration_s: Seconds
    severity: Severity


@dataclass(frozen=True)
class Frozen(Section):
    noise_db: float
    detect_s: Positive
    live_min_s: Seconds
    static_share: Share
    static_min_s: Seconds
    edge_touch_s: Seconds
    edge_allowance_s: Seconds
    severity: Severity


@dataclass(frozen=True)
class Letterbox(Section):
    limit: Annotated[int, Bounds(ge=0, le=255)]
    min_bar_share: Share
    min_duration_s: Seconds
    severity: Severity


@dataclass(frozen=True)
class DecodeErrors(Section):
    review_at: Size
    fail_at: Size


@dataclass(frozen=True)
class Loudness(Section):
    review_below_lufs: float
    fail_below_lufs: float
    review_above_lufs: float
    max_true_peak_dbtp: float
    severity: Severity


@dataclass(frozen=True)
class Silence(Section):
    noise_db: float
    detect_s: Positive
    room_tone_db: float
    music_flatness: Share
    spectral_rate: Annotated[int, Bounds(ge=1000)]
    spectral_highpass_hz: NonNegative
    join_gap_s: Seconds
    min_duration_s: Seconds
    fail_duration_s: Seconds
    edge_touch_s: Seconds
    edge_allowance_s: Seconds
    severity: Severity


@dataclass(frozen=True)
class Clipping(Section):
    window_s: Positive
    peak_level_db: float
    min_flat_factor: float
    overshoot_db: float
    min_duration_s: Seconds
    severity: Severity


@dataclass(frozen=True)
class VideoShort(Section):
    min_gap_s: Positive
    severity: Severity


@dataclass(frozen=True)
class Signal(Section):
    skip_nonref_frames: bool
    analysis_fps: Positive
    analysis_width: Size
    progress_interval_s: Positive
    black: Black
    frozen: Frozen
    letterbox: Letterbox
    decode_errors: DecodeErrors
    loudness: Loudness
    silence: Silence
    video_short: VideoShort
    clipping: Clipping


@dataclass(frozen=True)
class ReportRules(Section):
    max_thumbnails: Count
    thumbnail_width: Size


# --- farm.yaml, frames.yaml ------------------------------------------------------------------

@dataclass(frozen=True)
class TimeLimit(Section):
    base_s: Positive
    per_media_s: NonNegative


@dataclass(frozen=True)
class Farm(Section):
    segment_s: Positive
    min_tail_s: Seconds
    segmented: list[str]
    queues: dict[str, str]
    default_queue: str
    time_limit: TimeLimit
    retries: Count
    min_backoff_s: Seconds
    max_backoff_s: Seconds
    state_ttl_s: Size


@dataclass(frozen=True)
class Frames(Section):
    fps: Positive
    max_height: Size


# --- lab.yaml --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LabShots(Section):
    min_score: NonNegative
    adaptive_ratio: NonNegative
    window: Size
    min_shot_s: Seconds


@dataclass(frozen=True)
class LabMotion(Section):
    min_response: Share
    max_misfit_px: NonNegative
    trend_window: Size


@dataclass(frozen=True)
class LabShake(Section):
    jitter_px: NonNegative
    window: Size
    min_duration_s: Seconds
    severity: Severity


@dataclass(frozen=True)
class LabBlur(Section):
    min_sharpness: NonNegative
    window: Size
    min_duration_s: Seconds
    severity: Severity


@dataclass(frozen=True)
class LabExposure(Section):
    dark_level: Luma
    bright_level: Luma
    under_max_mean: Luma
    under_max_midtone: Luma
    over_min_mean: Luma
    over_min_bright_share: Share
    over_min_midtone: Luma
    black_share: Share
    window: Size
    min_duration_s: Seconds
    severity: Severity


@dataclass(frozen=True)
class LabStatic(Section):
    max_shots: Count
    max_moving_s: Seconds
    pan_px_s: NonNegative
    zoom_per_s: NonNegative
    min_duration_s: Seconds
    severity: Severity


@dataclass(frozen=True)
class LabSheet(Section):
    every_s: Positive
    max_tiles: Size
    max_kept_tiles: Size
    columns: Size
    tile_width: Size
    jpeg_quality: Annotated[int, Bounds(ge=1, le=100)]


@dataclass(frozen=True)
class Lab(Section):
    enabled: bool
    analysis_width: Size
    reference_width: Size
    flat_std: NonNegative
    shots: LabShots
    motion: LabMotion
    shake: LabShake
    blur: LabBlur
    exposure: LabExposure
    static: LabStatic
    sheet: LabSheet


# --- onscreen.yaml ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Slides(Section):
    width: Size
    pixel_delta: Luma
    change_share: Share
    drift_share: Share
    still_share: Share
    cell_px: Size
    busy_window_s: Positive
    busy_share: Share
    min_quiet_share: Share
    min_scene_s: Seconds
    max_gap_s: Seconds
    max_scene_s: Positive
    repeat_share: Share
    repeat_window: Size
    max_read_scenes: Size


@dataclass(frozen=True)
class Ocr(Section):
    cuda: bool
    threads: Count
    det_side: Size
    det_thresh: Share
    box_thresh: Share
    unclip_ratio: Positive
    rec_batch: Size
    pad_share: NonNegative
    split_gap: NonNegative
    vertical_ratio: Positive
    column_gap: NonNegative
    column_pieces: Size
    min_line_conf: Confidence


@dataclass(frozen=True)
class TextAds(Section):
    rules_file: str
    severity: Severity


@dataclass(frozen=True)
class Codes(Section):
    enabled: bool
    barcodes: bool
    severity: Severity


@dataclass(frozen=True)
class Traditional(Section):
    min_line_conf: Confidence
    min_chars: Count
    min_share: Share
    severity: Severity


@dataclass(frozen=True)
class Watermark(Section):
    edge_width: Size
    edge_delta: NonNegative
    min_scenes: Size
    persist_share: Share
    min_area_share: Share
    max_area_share: Share
    max_side_share: Share
    max_aspect: Positive
    live_factor: NonNegative
    live_motion: Share
    min_fill: Share
    min_video_share: Share
    merge_overlap: Share
    median_frames: Size
    min_consistency: Annotated[float, Bounds(ge=-1, le=1)]   # a correlation
    text_margin_px: Count
    numbering_frames: Size
    slide_text_share: Share
    severity: Severity
    other_severity: Severity
    words: list[str]


@dataclass(frozen=True)
class TitleField(Section):
    labels: list[str]
    values: list[str]

    def problem(self) -> str | None:
        for pattern in self.values:
            try:
                re.compile(pattern)
            except re.error as exc:
                return f"value pattern {pattern!r} is not a regular expression ({exc})"
        return None


@dataclass(frozen=True)
class TitleCardRules(Section):
    window_s: Seconds
    min_text_s: Seconds
    severity: Severity
    read_runs: Size
    mean_frames: Size
    score_width: Size
    edge_strength: NonNegative
    steady_delta: NonNegative
    shown_share: Share
    min_score: Share
    heading_ratio: Positive
    heading_field: str
    pair_reach: Positive
    pair_below: Positive
    fields: dict[str, TitleField]


@dataclass(frozen=True)
class Citations(Section):
    file: str
    severity: Severity


@dataclass(frozen=True)
class Onscreen(Section):
    enabled: bool
    thumbnail_width: Size
    max_thumbnails: Count
    slides: Slides
    ocr: Ocr
    ads: TextAds
    citations: Citations
    qr: Codes
    traditional: Traditional
    watermark: Watermark
    title_card: TitleCardRules


# --- speech.yaml -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelChoice(Section):
    name: str
    fallback: str
    compute_type: str
    threads: Count
    batch_size: Count


@dataclass(frozen=True)
class SpeechModel(Section):
    device: Literal["auto", "cpu", "cuda"]
    cpu: ModelChoice
    cuda: ModelChoice


@dataclass(frozen=True)
class Vad(Section):
    threshold: Share
    min_speech_duration_ms: Count
    min_silence_duration_ms: Count
    speech_pad_ms: Count
    max_speech_s: Positive


@dataclass(frozen=True)
class SpeechLanguage(Section):
    window_min_s: Seconds
    window_max_s: Positive
    join_gap_s: Seconds
    encoder_min_s: Seconds
    batch: Size
    fail_probability: Share
    min_stretch_s: Seconds
    merge_gap_s: Seconds


@dataclass(frozen=True)
class Transcribe(Section):
    window_s: Positive
    beam_size: Size
    timestamps: bool
    temperatures: list[Share]
    compression_ratio_threshold: float
    log_prob_threshold: float
    no_speech_threshold: Share
    prompts: dict[str, str]

    def problem(self) -> str | None:
        return None if self.temperatures else "temperatures must list at least one temperature"


@dataclass(frozen=True)
class LowSpeech(Section):
    review_below: Share
    fail_below: Share


@dataclass(frozen=True)
class SpeechAds(Section):
    rules_file: str
    cooccur_s: Seconds
    merge_gap_s: Seconds


@dataclass(frozen=True)
class Speech(Section):
    enabled: bool
    model: SpeechModel
    vad: Vad
    language: SpeechLanguage
    transcribe: Transcribe
    low_speech: LowSpeech
    ads: SpeechAds
    subtitles: bool


# --- package.yaml ----------------------------------------------------------------------------

@dataclass(frozen=True)
class PackageCategory(Section):
    video: str
    required: list[str]
    optional: list[str]

    def problem(self) -> str | None:
        return None if self.video in self.required else f"the video part {self.video!r} must be required"


@dataclass(frozen=True)
class PartRole(Section):
    names: list[str]
    headings: list[str]
    slides: bool


@dataclass(frozen=True)
class PackageLimits(Section):
    max_files: Size
    max_total_bytes: Size
    max_ratio: Positive
    ratio_min_bytes: Count
    max_depth: Size


@dataclass(frozen=True)
class PackageDocuments(Section):
    max_pages: Size
    render_dpi: Positive
    max_render_px: Size
    max_unpacked_bytes: Size
    scanned_max_chars: Count
    min_image_px: Size
    min_image_share: Share
    max_image_px: Size
    band_aspect: Positive
    band_overlap: Annotated[float, Bounds(ge=0, le=0.9)]
    min_traditional_chars: Size
    libreoffice_timeout_s: Positive
    office_pictures: bool
    thumbnail_width: Size
    max_thumbnails: Count


@dataclass(frozen=True)
class PackageSeverity(Section):
    missing: Severity
    unreadable: Severity
    unexpected: Severity


@dataclass(frozen=True)
class Package(Section):
    categories: dict[str, PackageCategory]
    roles: dict[str, PartRole]
    min_headings: Size
    heading_chars: Size
    video_suffixes: list[str]
    document_suffixes: list[str]
    legacy_suffixes: dict[str, str]
    executable_suffixes: list[str]
    archive_suffixes: list[str]
    ignored_names: list[str]
    limits: PackageLimits
    documents: PackageDocuments
    severity: PackageSeverity

    def problem(self) -> str | None:
        unknown = sorted({p for c in self.categories.values() for p in [*c.required, *c.optional]} - set(self.roles))
        return f"parts without a role entry: {', '.join(unknown)}" if unknown else None


# --- the whole profile -----------------------------------------------------------------------

@dataclass(frozen=True)
class Sections(Section):
    """Every top-level key of a profile (config/defaults/*.yaml together)."""

    name: str
    description: str
    category: str
    languages: Languages
    duration: Duration
    file: FileRules
    video: Video
    audio: Audio
    signal: Signal
    report: ReportRules
    farm: Farm
    frames: Frames
    lab: Lab
    onscreen: Onscreen
    speech: Speech
    package: Package


def build(tp: Any, value: Any, source: Callable[[str], str] | str, key: str = "") -> Any:
    """`value` (plain YAML data) as type `tp`; ProfileError naming the key and its file otherwise.

    `source` is the file name, or a function from a dotted key to the file that set it.
    """
    where = source if callable(source) else (lambda _key: source)
    return _build(tp, value, where, key)


def open_keys(tp: Any, path: list[str]) -> bool:
    """Whether the mapping at `path` inside `tp` takes keys of its own (a dict field, not a section)."""
    for name in path:
        tp = _strip(tp)
        if dataclasses.is_dataclass(tp):
            hint = get_type_hints(tp, include_extras=True).get(name)
        elif get_origin(tp) is dict:
            hint = get_args(tp)[1]
        else:
            return False
        if hint is None:
            return False
        tp = hint
    return get_origin(_strip(tp)) is dict


def _strip(tp: Any) -> Any:
    return get_args(tp)[0] if get_origin(tp) is Annotated else tp


def _fail(where: Callable[[str], str], key: str, what: str) -> ProfileError:
    return ProfileError(f"{where(key)}: key '{key}' {what}")


def _build(tp: Any, value: Any, where: Callable[[str], str], key: str) -> Any:
    origin = get_origin(tp)
    if origin is Annotated:
        base, *marks = get_args(tp)
        built = _build(base, value, where, key)
        for mark in marks:
            problem = mark.problem(built) if isinstance(mark, Bounds) else None
            if problem:
                raise _fail(where, key, f"{problem}, got {built!r}")
        return built
    if dataclasses.is_dataclass(tp):
        return _section(tp, value, where, key)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in get_args(tp):
            return None
        return _build(next(a for a in get_args(tp) if a is not type(None)), value, where, key)
    if origin is Literal:
        if value not in get_args(tp):
            raise _fail(where, key, f"must be one of {', '.join(map(str, get_args(tp)))}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise _fail(where, key, f"must be a list, got {type(value).__name__} ({value!r})")
        return [_build(get_args(tp)[0], v, where, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(where, key, "must be a mapping")
        return {str(k): _build(get_args(tp)[1], v, where, f"{key}.{k}") for k, v in value.items()}
    return _scalar(tp, value, where, key)


def _scalar(tp: type, value: Any, where: Callable[[str], str], key: str) -> Any:
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, tp)
    if not ok:
        raise _fail(where, key, f"must be {tp.__name__}, got {type(value).__name__} ({value!r})")
    return value


def _section(tp: type, value: Any, where: Callable[[str], str], key: str) -> Any:
    if not isinstance(value, dict):
        raise _fail(where, key or "(top)", "must be a mapping")
    hints = get_type_hints(tp, include_extras=True)
    names = [f.name for f in dataclasses.fields(tp)]
    prefix = f"{key}." if key else ""
    for extra in sorted(map(str, value.keys() - set(names))):
        raise ProfileError(f"{where(prefix + extra)}: unknown key '{prefix}{extra}'")
    for missing in [n for n in names if n not in value]:
        raise ProfileError(f"{where(prefix + missing)}: missing key '{prefix}{missing}'")
    section = tp(**{n: _build(hints[n], value[n], where, f"{prefix}{n}") for n in names})
    problem = section.problem()
    if problem:
        raise ProfileError(f"{where(key)}: section '{key or '(top)'}': {problem}")
    return section
