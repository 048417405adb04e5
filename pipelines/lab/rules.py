"""Lab camera-work rules: a track (and its shots) in, findings with time ranges out.

Every rule smooths its per-sample signal with a moving median before thresholding and
keeps only runs of at least `min_duration_s`, so one odd frame never raises a finding.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from pipelines.lab.track import Track
from pipelines.settings.profile import Lab, LabExposure
from pipelines.domain import Finding
from pipelines.lab.shots import Shot


@dataclass(frozen=True)
class Series:
    """The track's columns as arrays, with the derived masks every rule shares."""

    times: np.ndarray
    step_s: float
    col: dict[str, np.ndarray]
    scale: float      # analysed px -> reference px
    flat_std: float   # pictures with less luma spread have no detail to judge

    @property
    def detailed(self) -> np.ndarray:
        return self.col["std"] >= self.flat_std


def series(track: Track, cfg: Lab, analysed_width: int) -> Series:
    """The arrays of `track`; `analysed_width` is the width its frames were measured at."""
    cols = {k: track.array(k) for k in track.columns}
    scale = cfg.reference_width / max(1, analysed_width)
    return Series(np.asarray(track.times), track.step_s, cols, scale, cfg.flat_std)


def rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving median ignoring NaN (NaN where the window has no value)."""
    if not len(values):
        return values
    half = max(0, window // 2)
    padded = np.pad(values, half, constant_values=np.nan)
    view = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(view, axis=1)


def runs(mask: np.ndarray) -> Iterator[tuple[int, int]]:
    """(first, last) index pairs of the True runs in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    yield from zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1)


def sample_ranges(s: Series, mask: np.ndarray, min_duration_s: float) -> list[tuple[float, float, int, int]]:
    """Time ranges of runs of flagged samples (each covers one step) lasting at least `min_duration_s`."""
    out = []
    for a, b in runs(mask):
        start, end = float(s.times[a]), float(s.times[b]) + s.step_s
        if end - start >= min_duration_s - 1e-6:
            out.append((round(start, 3), round(end, 3), int(a), int(b)))
    return out


def finding(code: str, severity: str, message: str, span: tuple[float, float, int, int], key: str,
            **evidence: float | str) -> Finding:
    return Finding(code, severity, message, span[0], span[1], {"key": key, **evidence})


# --- shake ------------------------------------------------------------------------------

def valid_motion(s: Series, shots: list[Shot], cfg: Lab) -> np.ndarray:
    """Steps whose camera motion is known: a clear correlation peak, the whole picture moving alike
    (not just people), no cut, not a shot's first sample."""
    ok = (s.col["response"] >= cfg.motion.min_response) & (s.col["misfit"] <= cfg.motion.max_misfit_px)
    ok &= np.nan_to_num(s.col["cut"], nan=1.0) < cfg.shots.min_score
    ok[[shot.first for shot in shots]] = False
    return ok


def per_shot(values: np.ndarray, shots: list[Shot], window: int) -> np.ndarray:
    """Moving median of `values` inside each shot (no window crosses a cut)."""
    out = np.full_like(values, np.nan)
    for shot in shots:
        out[shot.first:shot.end] = rolling_median(values[shot.first:shot.end], window)
    return out


def trend(s: Series, shots: list[Shot], valid: np.ndarray, cfg: Lab) -> tuple[np.ndarray, np.ndarray]:
    """The intended camera motion (moving median of the measured motion), per step."""
    dx, dy = np.where(valid, s.col["dx"], np.nan), np.where(valid, s.col["dy"], np.nan)
    return per_shot(dx, shots, cfg.motion.trend_window), per_shot(dy, shots, cfg.motion.trend_window)


def jitter(s: Series, shots: list[Shot], cfg: Lab) -> np.ndarray:
    """|motion - trend| per step, in reference px (NaN where the motion is unknown)."""
    valid = valid_motion(s, shots, cfg)
    tx, ty = trend(s, shots, valid, cfg)
    return np.where(valid, np.hypot(s.col["dx"] - tx, s.col["dy"] - ty), np.nan) * s.scale


def shaky(s: Series, shots: list[Shot], cfg: Lab) -> list[Finding]:
    rule = cfg.shake
    level = per_shot(jitter(s, shots, cfg), shots, rule.window)
    found = []
    for span in step_ranges(s, np.nan_to_num(level) >= rule.jitter_px, rule.min_duration_s):
        value = float(np.nanmedian(level[span[2]:span[3] + 1]))
        found.append(finding("lab.shaky", rule.severity,
                             f"画面抖动 / shaky camera: jitter {value:.0f} px (limit {rule.jitter_px:.0f} px at "
                             f"{cfg.reference_width} px wide)", span, "shaky",
                             jitter_px=round(value, 1), limit_px=rule.jitter_px))
    return found


def step_ranges(s: Series, mask: np.ndarray, min_duration_s: float) -> list[tuple[float, float, int, int]]:
    """Time ranges of runs of flagged steps; a step's change happened between its two samples (midpoint)."""
    out = []
    for a, b in runs(mask):
        start = float(s.times[a - 1] + s.times[a]) / 2 if a > 0 else float(s.times[0])
        end = float(s.times[b - 1] + s.times[b]) / 2 if b > 0 else float(s.times[0])
        if end - start >= min_duration_s - 1e-6:
            out.append((round(start, 3), round(end, 3), int(a), int(b)))
    return out


# --- blur and exposure --------------------------------------------------------------------

def blurry(s: Series, cfg: Lab) -> list[Finding]:
    rule = cfg.blur
    level = rolling_median(np.where(s.detailed, s.col["sharpness"], np.nan), rule.window)
    found = []
    for span in sample_ranges(s, np.nan_to_num(level, nan=np.inf) < rule.min_sharpness, rule.min_duration_s):
        value = float(np.nanmedian(level[span[2]:span[3] + 1]))
        found.append(finding("lab.blurry", rule.severity,
                             f"画面模糊 / blurry picture: sharpness {value:.2f} (limit {rule.min_sharpness:.2f})",
                             span, "blurry", sharpness=round(value, 3), limit=rule.min_sharpness))
    return found


def exposure(s: Series, cfg: Lab) -> list[Finding]:
    """Too dark or washed out: the average and also the midtones (the pixels neither crushed nor
    clipped), so a dark-clothed teacher, a white slide with dark text or a dark slide with white
    text are not exposure faults."""
    rule = cfg.exposure
    col = s.col
    under = (col["dark"] < rule.black_share) & (col["mean"] <= rule.under_max_mean) & \
        (col["midtone"] <= rule.under_max_midtone)
    over = (col["mean"] >= rule.over_min_mean) & (col["bright"] >= rule.over_min_bright_share) & \
        (col["midtone"] >= rule.over_min_midtone)
    return _exposure_kind(s, under, "under", "曝光不足 / under-exposed", rule) + \
        _exposure_kind(s, over, "over", "曝光过度 / over-exposed", rule)


def _exposure_kind(s: Series, mask: np.ndarray, kind: str, title: str, rule: LabExposure) -> list[Finding]:
    level = rolling_median(mask.astype(np.float64), rule.window) >= 0.5
    found = []
    for span in sample_ranges(s, level, rule.min_duration_s):
        window = slice(span[2], span[3] + 1)
        mean, dark, bright = (float(np.median(s.col[k][window])) for k in ("mean", "dark", "bright"))
        found.append(finding("lab.exposure", rule.severity,
                             f"{title}: mean luma {mean:.0f}, clipped dark {dark:.0%}, bright {bright:.0%}",
                             span, kind, kind=kind, mean_luma=round(mean, 1), dark_share=round(dark, 3),
                             bright_share=round(bright, 3)))
    return found


# --- static ---------------------------------------------------------------------------------

def moving_seconds(s: Series, shots: list[Shot], cfg: Lab) -> float:
    """Time the camera pans, tilts or zooms (trend above the static limits)."""
    valid = valid_motion(s, shots, cfg)
    tx, ty = trend(s, shots, valid, cfg)
    speed = np.hypot(tx, ty) * s.scale / s.step_s
    zoom = per_shot(np.where(valid, s.col["zoom"], np.nan), shots, cfg.motion.trend_window) / s.step_s
    moving = (np.nan_to_num(speed) >= cfg.static.pan_px_s) | (np.abs(np.nan_to_num(zoom)) >= cfg.static.zoom_per_s)
    return float(np.count_nonzero(moving) * s.step_s)


def static(s: Series, shots: list[Shot], moving_s: float, cfg: Lab) -> list[Finding]:
    rule = cfg.static
    duration = float(s.times[-1] + s.step_s - s.times[0]) if len(s.times) else 0.0
    if duration < rule.min_duration_s or len(shots) > rule.max_shots or moving_s > rule.max_moving_s:
        return []
    message = (f"单一固定机位 / one fixed camera: {len(shots)} shot(s), camera moved {moving_s:.0f} s "
               f"in {duration / 60:.1f} min; no close-up of the experiment")
    span = (round(float(s.times[0]), 3), round(float(s.times[0]) + duration, 3), 0, len(s.times) - 1)
    return [finding("lab.static", rule.severity, message, span, "static", shots=len(shots),
                    moving_s=round(moving_s, 1), limit_moving_s=rule.max_moving_s)]
