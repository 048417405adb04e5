"""Camera-work measurements on small gray frames: picture quality per frame, motion per step.

All functions are pure and cheap (a 320-wide frame costs well under a millisecond):
- `picture`: sharpness (Laplacian energy normalised by gradient energy), exposure shares, luma.
- `motion`: global translation (phase correlation), zoom (quadrant divergence) and a cut
  score (1 - correlation after compensating the translation) between two sampled frames.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

CUT_WIDTH = 80  # frames are compared for cuts at this width (motion compensated)
MIN_SIDE = 16   # smaller frames are too small to measure motion in


@dataclass(frozen=True)
class Levels:
    """Luma levels (full range) that count as crushed shadows and clipped highlights."""

    dark: int = 20
    bright: int = 245


@dataclass(frozen=True)
class Picture:
    """Per-frame measures."""

    sharpness: float  # mean(Laplacian^2) / mean(|gradient|^2): about 1/(2 sigma^2) of a Gaussian blur
    dark: float       # share of pixels <= Levels.dark
    bright: float     # share of pixels >= Levels.bright
    mean: float
    std: float
    midtone: float    # mean luma of the pixels neither crushed nor clipped (the rest of the picture)


@dataclass(frozen=True)
class Motion:
    """Camera motion from one sampled frame to the next, in pixels of the analysed frame."""

    dx: float
    dy: float
    zoom: float      # relative scale change (0.05: 5 % closer)
    response: float  # phase-correlation peak, 0..1 (low: motion unknown)
    misfit: float    # median distance of the quadrant shifts from the global model (local motion, people)
    cut: float       # 0 (same picture) .. ~1 (unrelated picture)


@dataclass(frozen=True)
class Prepared:
    """A frame ready for `motion`: Hann-windowed whole frame and quadrants, a tiny copy for the cut score."""

    image: np.ndarray              # float32 (h, w), windowed
    quadrants: tuple[np.ndarray, ...]
    tiny: np.ndarray               # float32, CUT_WIDTH wide, not windowed
    std: float
    mean: float


def shrink(image: np.ndarray, width: int) -> np.ndarray:
    """Downscale a gray frame to `width`, keeping the aspect; never upscale.

    Exact halvings first (bilinear at exactly half size is a 2x2 box average, and several times
    faster than a wide INTER_AREA), then one area resize for the rest.
    """
    h, w = image.shape
    while w >= 2 * width:
        w, h = w // 2, h // 2
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    if w == width:
        return image
    return cv2.resize(image, (width, max(2, round(h * width / w))), interpolation=cv2.INTER_AREA)


def picture(image: np.ndarray, levels: Levels) -> Picture:
    """Measure one uint8 gray frame."""
    hist = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel() / image.size
    luma = np.arange(256)
    mean = float(np.dot(hist, luma))
    std = float(np.sqrt(max(0.0, np.dot(hist, (luma - mean) ** 2))))
    mid = slice(levels.dark + 1, levels.bright)
    share = float(hist[mid].sum())
    midtone = float(np.dot(hist[mid], luma[mid])) / share if share > 0 else mean
    return Picture(sharpness(image), float(hist[:levels.dark + 1].sum()), float(hist[levels.bright:].sum()),
                   mean, std, midtone)


def sharpness(image: np.ndarray) -> float:
    """Laplacian energy over gradient energy: high when edges are crisp, whatever the content."""
    f = image.astype(np.float32)
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=1)
    lap = cv2.Laplacian(f, cv2.CV_32F, ksize=1)
    grad = float(np.mean(gx * gx + gy * gy))
    return float(np.mean(lap * lap)) / grad if grad > 1e-6 else float("nan")


@lru_cache(maxsize=8)
def _window(width: int, height: int) -> np.ndarray:
    return cv2.createHanningWindow((width, height), cv2.CV_32F)


def _windowed(f: np.ndarray) -> np.ndarray:
    return f * _window(f.shape[1], f.shape[0])


def _quadrants(f: np.ndarray) -> list[np.ndarray]:
    h, w = f.shape[0] // 2, f.shape[1] // 2
    return [f[y:y + h, x:x + w] for y in (0, h) for x in (0, w)]


def prepare(image: np.ndarray) -> Prepared:
    """Precompute what `motion` needs from one uint8 frame (deterministic: merge recomputes it).

    Windows are applied here, once: cv2.phaseCorrelate given a window multiplies its inputs in place.
    """
    f = image.astype(np.float32)
    if min(f.shape) < MIN_SIDE:
        return Prepared(f, (), f, float(f.std()), float(f.mean()))
    quads = tuple(_windowed(q) for q in _quadrants(f))
    return Prepared(_windowed(f), quads, shrink(f, CUT_WIDTH), float(f.std()), float(f.mean()))


def _shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    (dx, dy), response = cv2.phaseCorrelate(a, b)
    return float(dx), float(dy), float(response)


def motion(prev: Prepared, cur: Prepared, flat_std: float) -> Motion:
    """Translation, zoom and cut score from `prev` to `cur` (same size); flat pictures have no motion."""
    if min(prev.std, cur.std) < flat_std or not prev.quadrants or not cur.quadrants:
        return Motion(0.0, 0.0, 0.0, 0.0, math.inf, level_cut_score(prev, cur, flat_std))
    dx, dy, response = _shift(prev.image, cur.image)
    scale, misfit = zoom(prev, cur, dx, dy)
    return Motion(dx, dy, scale, response, misfit, cut_score(prev, cur, dx, dy))


def level_cut_score(prev: Prepared, cur: Prepared, flat_std: float) -> float:
    """Cut score without usable structure (a flat or tiny picture): a picture appearing or vanishing
    is a cut; otherwise the change of mean level."""
    if (prev.std < flat_std) != (cur.std < flat_std):
        return 1.0
    return min(1.0, abs(prev.mean - cur.mean) / 128.0)


def zoom(prev: Prepared, cur: Prepared, dx: float, dy: float) -> tuple[float, float]:
    """Relative scale change fitted to the quadrant shifts (least squares on their outward
    directions), and how far the quadrants stray from translation (dx, dy) plus that zoom."""
    h, w = prev.image.shape
    shifts = np.array([_shift(a, b)[:2] for a, b in zip(prev.quadrants, cur.quadrants)])
    centres = np.array([(x * w / 4, y * h / 4) for y in (-1, 1) for x in (-1, 1)])
    scale = float(np.sum((shifts - shifts.mean(axis=0)) * centres)) / float(np.sum(centres * centres))
    model = np.array([dx, dy]) + scale * centres
    return scale, float(np.median(np.hypot(*(shifts - model).T)))


def cut_score(prev: Prepared, cur: Prepared, dx: float, dy: float) -> float:
    """1 - correlation of the tiny frames over their overlap once `cur` is moved back by (dx, dy)."""
    scale = prev.tiny.shape[1] / prev.image.shape[1]
    sx, sy = dx * scale, dy * scale
    h, w = cur.tiny.shape
    back = cv2.warpAffine(cur.tiny, np.float32([[1, 0, -sx], [0, 1, -sy]]), (w, h), flags=cv2.INTER_LINEAR)
    mx, my = int(np.ceil(abs(sx))), int(np.ceil(abs(sy)))
    if 2 * mx >= w - 4 or 2 * my >= h - 4:
        return 1.0
    a = prev.tiny[my:h - my, mx:w - mx]
    b = back[my:h - my, mx:w - mx]
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt(np.sum(a * a) * np.sum(b * b)))
    return 1.0 - float(np.sum(a * b)) / denom if denom > 1e-6 else 0.0
