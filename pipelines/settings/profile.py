"""The profile's sections (config/defaults/*.yaml together), validated when a profile loads.

Every key of config/defaults/*.yaml has a field here with its type and range; the YAML stays
the one place for default values (no field has a default). An unknown or missing key, a wrong
type or a value out of range is refused by pydantic, and pipelines/settings/base.py names the
key and the file.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StrictInt

from pipelines.settings.base import (Confidence, Count, Flag, Luma, NonNegative, Number, Positive, Seconds, Section,
                                     Severity, Share, Size, section)


# --- core.yaml -------------------------------------------------------------------------------

@section
class Languages(Section):
    speech: list[str]
    text: list[str]


@section
class Duration(Section):
    min_s: Seconds
    max_s: Seconds
    severity: Severity

    def __post_init__(self) -> None:
        if self.min_s > self.max_s:
            raise ValueError("min_s must not exceed max_s")


@section
class FileRules(Section):
    max_size_bytes: Size
    size_severity: Severity
    containers: list[str]
    container_severity: Severity


@section
class Video(Section):
    codecs: list[str]
    codec_severity: Severity
    width: Size
    height: Size
    resolution_severity: Severity
    aspect: Annotated[str, Field(pattern=r"^\d+:\d+$")]   # W:H
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


@section
class Audio(Section):
    required: Flag
    no_audio_severity: Severity
    codecs: list[str]
    codec_severity: Severity
    min_bitrate: NonNegative
    bitrate_severity: Severity
    sample_rates: list[Size]
    sample_rate_severity: Severity
    max_streams: Size
    streams_severity: Severity


@section
class Black(Section):
    pixel_threshold: Share
    picture_threshold: Share
    min_duration_s: Seconds
    fail_duration_s: Seconds
    severity: Severity


@section
class Frozen(Section):
    noise_db: Number
    detect_s: Positive
    live_min_s: Seconds
    static_share: Share
    static_min_s: Seconds
    edge_touch_s: Seconds
    edge_allowance_s: Seconds
    severity: Severity


@section
class Letterbox(Section):
    limit: Annotated[StrictInt, Field(ge=0, le=255)]
    min_bar_share: Share
    min_duration_s: Seconds
    severity: Severity


@section
class DecodeErrors(Section):
    review_at: Size
    fail_at: Size


@section
class Loudness(Section):
    review_below_lufs: Number
    fail_below_lufs: Number
    review_above_lufs: Number
    max_true_peak_dbtp: Number
    severity: Severity


@section
class Silence(Section):
    noise_db: Number
    detect_s: Positive
    room_tone_db: Number
    music_flatness: Share
    spectral_rate: Annotated[StrictInt, Field(ge=1000)]
    spectral_highpass_hz: NonNegative
    join_gap_s: Seconds
    min_duration_s: Seconds
    fail_duration_s: Seconds
    edge_touch_s: Seconds
    edge_allowance_s: Seconds
    severity: Severity


@section
class Clipping(Section):
    window_s: Positive
    peak_level_db: Number
    min_flat_factor: Number
    overshoot_db: Number
    min_duration_s: Seconds
    severity: Severity


@section
class VideoShort(Section):
    min_gap_s: Positive
    severity: Severity


@section
class Signal(Section):
    skip_nonref_frames: Flag
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


@section
class ReportRules(Section):
    max_thumbnails: Count
    thumbnail_width: Size


# --- farm.yaml, frames.yaml ------------------------------------------------------------------

@section
class TimeLimit(Section):
    base_s: Positive
    per_media_s: NonNegative


@section
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


@section
class Frames(Section):
    fps: Positive
    max_height: Size


# --- lab.yaml --------------------------------------------------------------------------------

@section
class LabShots(Section):
    min_score: NonNegative
    adaptive_ratio: NonNegative
    window: Size
    min_shot_s: Seconds


@section
class LabMotion(Section):
    min_response: Share
    max_misfit_px: NonNegative
    trend_window: Size


@section
class LabShake(Section):
    jitter_px: NonNegative
    window: Size
    min_duration_s: Seconds
    severity: Severity


@section
class LabBlur(Section):
    min_sharpness: NonNegative
    window: Size
    min_duration_s: Seconds
    severity: Severity


@section
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


@section
class LabStatic(Section):
    max_shots: Count
    max_moving_s: Seconds
    pan_px_s: NonNegative
    zoom_per_s: NonNegative
    min_duration_s: Seconds
    severity: Severity


@section
class LabSheet(Section):
    every_s: Positive
    max_tiles: Size
    max_kept_tiles: Size
    columns: Size
    tile_width: Size
    jpeg_quality: Annotated[StrictInt, Field(ge=1, le=100)]


@section
class Lab(Section):
    enabled: Flag
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

@section
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


@section
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


@section
class TextAds(Section):
    rules_file: str
    severity: Severity


@section
class Codes(Section):
    enabled: Flag
    barcodes: Flag
    severity: Severity


@section
class Traditional(Section):
    min_line_conf: Confidence
    min_chars: Count
    min_share: Share
    severity: Severity


@section
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
    min_consistency: Annotated[Number, Field(ge=-1, le=1)]   # a correlation
    text_margin_px: Count
    numbering_frames: Size
    slide_text_share: Share
    severity: Severity
    other_severity: Severity
    words: list[str]


@section
class TitleField(Section):
    labels: list[str]
    values: list[str]

    def __post_init__(self) -> None:
        for pattern in self.values:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"value pattern {pattern!r} is not a regular expression ({exc})") from None


@section
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


@section
class Citations(Section):
    file: str
    severity: Severity


@section
class Onscreen(Section):
    enabled: Flag
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

@section
class ModelChoice(Section):
    name: str
    fallback: str
    compute_type: str
    threads: Count
    batch_size: Count


@section
class SpeechModel(Section):
    device: Literal["auto", "cpu", "cuda"]
    cpu: ModelChoice
    cuda: ModelChoice


@section
class Vad(Section):
    threshold: Share
    min_speech_duration_ms: Count
    min_silence_duration_ms: Count
    speech_pad_ms: Count
    max_speech_s: Positive


@section
class SpeechLanguage(Section):
    window_min_s: Seconds
    window_max_s: Positive
    join_gap_s: Seconds
    encoder_min_s: Seconds
    batch: Size
    fail_probability: Share
    min_stretch_s: Seconds
    merge_gap_s: Seconds


@section
class Transcribe(Section):
    window_s: Positive
    beam_size: Size
    timestamps: Flag
    temperatures: Annotated[list[Share], Field(min_length=1)]
    compression_ratio_threshold: Number
    log_prob_threshold: Number
    no_speech_threshold: Share
    prompts: dict[str, str]


@section
class LowSpeech(Section):
    review_below: Share
    fail_below: Share


@section
class SpeechAds(Section):
    rules_file: str
    cooccur_s: Seconds
    merge_gap_s: Seconds


@section
class Speech(Section):
    enabled: Flag
    model: SpeechModel
    vad: Vad
    language: SpeechLanguage
    transcribe: Transcribe
    low_speech: LowSpeech
    ads: SpeechAds
    subtitles: Flag


# --- package.yaml ----------------------------------------------------------------------------

@section
class PackageCategory(Section):
    video: str
    required: list[str]
    optional: list[str]

    def __post_init__(self) -> None:
        if self.video not in self.required:
            raise ValueError(f"the video part {self.video!r} must be required")


@section
class PartRole(Section):
    names: list[str]
    headings: list[str]
    slides: Flag


@section
class PackageLimits(Section):
    max_files: Size
    max_total_bytes: Size
    max_ratio: Positive
    ratio_min_bytes: Count
    max_depth: Size


@section
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
    band_overlap: Annotated[Number, Field(ge=0, le=0.9)]
    min_traditional_chars: Size
    libreoffice_timeout_s: Positive
    office_pictures: Flag
    thumbnail_width: Size
    max_thumbnails: Count


@section
class PackageSeverity(Section):
    missing: Severity
    unreadable: Severity
    unexpected: Severity


@section
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

    def __post_init__(self) -> None:
        unknown = sorted({p for c in self.categories.values() for p in [*c.required, *c.optional]} - set(self.roles))
        if unknown:
            raise ValueError(f"parts without a role entry: {', '.join(unknown)}")


# --- the whole profile -----------------------------------------------------------------------

@section
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
