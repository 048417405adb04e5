"""The 64-bit perceptual hash of one gray frame, and of its mirror image.

The frame is shrunk, its uniform edges (letterbox, pillarbox, plain margins) are cut, the rest
is shrunk to 32x32 and transformed (DCT). The 64 bits are the signs, against their median, of
the low-frequency coefficients with horizontal frequency 1..8 and vertical 0..7: the mean
(brightness) is left out and a gain (contrast) does not move the median's side. A horizontal
mirror negates the odd horizontal frequencies, so the mirrored hash comes from the same DCT.
A frame too uniform to say anything (black, a plain colour) has no hash (0).
"""
from __future__ import annotations

import cv2
import numpy as np

from pipelines.originality.config import Picture

SIDE = 32
NO_HASH = 0
_MIRROR = np.array([(-1.0) ** u for u in range(1, 9)], np.float32)[None, :].repeat(8, 0)
_WEIGHTS = (np.uint64(1) << np.arange(64, dtype=np.uint64))


def frame_hashes(image: np.ndarray, cfg: Picture) -> tuple[int, int]:
    """(hash, mirrored hash) of one gray frame; (0, 0) when it is too uniform."""
    small = _shrink(image, cfg.thumb_height)
    cut = small[_inner(small.std(axis=1), cfg), :][:, _inner(small.std(axis=0), cfg)]
    thumb = cv2.resize(cut, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    if thumb.std() < cfg.flat_std:
        return NO_HASH, NO_HASH
    block = cv2.dct(thumb)[0:8, 1:9]
    return _bits(block), _bits(block * _MIRROR)


def _shrink(image: np.ndarray, height: int) -> np.ndarray:
    """Block means over a whole number of pixels (OpenCV's fast path); at least `height` lines stay."""
    h, w = image.shape[:2]
    k = max(1, h // height)
    if k == 1:
        return image.astype(np.float32)
    rows, cols = h // k, max(1, w // k)
    return cv2.resize(image[:rows * k, :cols * k], (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float32)


def _inner(line_std: np.ndarray, cfg: Picture) -> slice:
    """The lines between the uniform lines at both ends (at most max_border_share cut per end)."""
    n = len(line_std)
    limit = int(n * cfg.max_border_share)
    busy = np.flatnonzero(line_std > cfg.border_std)
    if len(busy) == 0:
        return slice(0, n)
    return slice(min(int(busy[0]), limit), max(int(busy[-1]) + 1, n - limit))


def _bits(block: np.ndarray) -> int:
    values = block.reshape(-1)
    set_bits = (values > np.median(values)).astype(np.uint64)
    word = int((set_bits * _WEIGHTS).sum(dtype=np.uint64))
    return word or 1  # a real hash is never NO_HASH


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances of uint64 arrays (broadcasting)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.uint8)
