"""Watermarks: edges that stay in place across scenes while the picture around them changes.

Every closed scene adds its representative's edge map, weighted by the scene's duration.
A mark is a compact cluster of edges present for most of the time, over at least
`min_scenes` different scenes (a static slide held long is one scene: never a mark).
Clusters that are outlines (a picture-in-picture frame), long bars (template rules,
repeated body text) or sit on live video (a camera inset) are not marks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pipelines.ocr.engine import Box


@dataclass(frozen=True)
class Mark:
    """A persistent region: box in frame pixels and the share of scene time it was present."""

    box: Box
    share: float


class EdgePersistence:
    """Accumulates duration-weighted edge maps of scene pictures; settings: `onscreen.watermark`."""

    def __init__(self, cfg: Any, min_scene_s: float):
        self.cfg = cfg
        self.min_scene_s = min_scene_s
        self.time = 0.0
        self.scenes = 0
        self.frame_size: tuple[int, int] = (0, 0)
        self._sum: np.ndarray | None = None

    def add(self, image: np.ndarray, duration_s: float, distinct: bool = True) -> None:
        """Add one scene picture (full-size gray) shown for `duration_s`; only `distinct` ones count as scenes."""
        if duration_s < self.min_scene_s:
            return
        edges = self._edges(image).astype(np.float32)
        if self._sum is None or self._sum.shape != edges.shape:
            self._sum = np.zeros_like(edges)
            self.frame_size = (image.shape[1], image.shape[0])
        self._sum += edges * duration_s
        self.time += duration_s
        self.scenes += int(distinct)

    def _edges(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape
        width = min(self.cfg.edge_width, w)
        small = cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
        gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
        return cv2.magnitude(gx, gy) > self.cfg.edge_delta

    def marks(self, motion: np.ndarray) -> list[Mark]:
        """Persistent regions; `motion` is the per-pixel share of frame pairs that changed."""
        if self._sum is None or self.scenes < self.cfg.min_scenes or self.time <= 0:
            return []
        share = self._sum / self.time
        persistent = (share >= self.cfg.persist_share).astype(np.uint8)
        live = _resize(motion, persistent.shape)
        return [m for m in self._clusters(persistent, share, live) if m is not None]

    def _clusters(self, persistent: np.ndarray, share: np.ndarray, live: np.ndarray) -> list[Mark | None]:
        h, w = persistent.shape
        k = max(3, w // 60)
        joined = cv2.morphologyEx(persistent, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
        count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        backdrop = float(np.median(live))
        return [self._judge(stats[i], persistent, share, live, backdrop) for i in range(1, count)]

    def _judge(self, stat: np.ndarray, persistent: np.ndarray, share: np.ndarray, live: np.ndarray,
               backdrop: float) -> Mark | None:
        x, y, bw, bh = (int(v) for v in stat[:4])
        h, w = persistent.shape
        cfg = self.cfg
        if not cfg.min_area_share <= bw * bh / (w * h) <= cfg.max_area_share:
            return None
        if bw > cfg.max_side_share * w or bh > cfg.max_side_share * h or max(bw, bh) > cfg.max_aspect * min(bw, bh):
            return None
        inner = persistent[y:y + bh, x:x + bw]
        if _inner_fill(inner) < cfg.min_fill:
            return None
        if float(np.mean(live[y:y + bh, x:x + bw])) > max(cfg.live_factor * backdrop, cfg.live_motion):
            return None  # live video (an inset) under the region
        sx, sy = self.frame_size[0] / w, self.frame_size[1] / h
        box = (int(x * sx), int(y * sy), int((x + bw) * sx), int((y + bh) * sy))
        return Mark(box, float(np.mean(share[y:y + bh, x:x + bw][inner > 0])))


def _inner_fill(inner: np.ndarray) -> float:
    """Share of edge pixels away from the border band (an outline scores ~0)."""
    bh, bw = inner.shape
    my, mx = max(1, bh // 5), max(1, bw // 5)
    core = inner[my:bh - my, mx:bw - mx]
    return float(np.mean(core)) if core.size else 0.0


def _resize(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if values.shape == shape:
        return values
    return cv2.resize(values.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def temporal_median(pictures: list[np.ndarray], box: Box, margin: int) -> np.ndarray:
    """Median over `pictures` of the region `box` (+margin): the still mark without its backdrop."""
    h, w = pictures[0].shape
    x0, y0 = max(0, box[0] - margin), max(0, box[1] - margin)
    x1, y1 = min(w, box[2] + margin), min(h, box[3] + margin)
    stack = np.stack([p[y0:y1, x0:x1] for p in pictures if p.shape == (h, w)])
    return np.median(stack, axis=0).astype(np.uint8)


def consistency(pictures: list[np.ndarray], box: Box) -> float:
    """How alike the region's edges are across `pictures` (median correlation with their median).

    A mark keeps its shape (high); different text shown at the same place does not (low).
    """
    patches = [_edge_patch(p, box) for p in pictures if p.shape == pictures[0].shape]
    if len(patches) < 2:
        return 0.0
    typical = np.median(np.stack(patches), axis=0)
    return float(np.median([_correlation(p, typical) for p in patches]))


def _edge_patch(picture: np.ndarray, box: Box) -> np.ndarray:
    region = picture[box[1]:box[3], box[0]:box[2]].astype(np.float32)
    return cv2.magnitude(cv2.Sobel(region, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(region, cv2.CV_32F, 0, 1, ksize=3))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float((a * b).sum()) / norm if norm > 0 else 0.0
