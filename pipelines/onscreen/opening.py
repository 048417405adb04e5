"""The opening seconds' best pictures for reading the title card.

The frames of the title window are kept at full size while they stream. Each is scored by
its steady detail: edges that stay put from the frame before to the frame after. Card text
is steady; an animated or filmed background, a fade or a slide-in is not. Frames whose
score is near the best form runs (a card, then perhaps the first slide); each of the first
runs is read on the per-pixel mean of its frames, in which a moving background melts into a
flat one while the text stays sharp. The card counts as shown for
as long as the steady detail stays near its best.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pipelines.frames import Frame


@dataclass(frozen=True)
class Scored:
    """A frame of the window and its steady-detail score (share of the picture)."""

    time_s: float
    image: np.ndarray
    score: float


def score(frames: list[Frame], cfg: Any) -> list[Scored]:
    """Steady-detail scores of consecutive frames (settings: `onscreen.title_card`)."""
    small = [_reduce(f.image, cfg.score_width) for f in frames]
    scored = []
    for i, frame in enumerate(frames):
        near = [small[j] for j in (i - 1, i + 1) if 0 <= j < len(small)]
        scored.append(Scored(frame.time_s, frame.image, _steady_edges(small[i], near, cfg)))
    return scored


def _reduce(image: np.ndarray, width: int) -> np.ndarray:
    h, w = image.shape[:2]
    if w <= width:
        return image.astype(np.int16)
    return cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA).astype(np.int16)


def _steady_edges(cur: np.ndarray, near: list[np.ndarray], cfg: Any) -> float:
    gx = cv2.Sobel(cur.astype(np.float32), cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(cur.astype(np.float32), cv2.CV_32F, 0, 1)
    edges = np.hypot(gx, gy) > cfg.edge_strength
    steady = np.ones_like(edges)
    for other in near:
        steady &= np.abs(cur - other) <= cfg.steady_delta
    return float(np.mean(edges & steady))


def runs(scored: list[Scored], share: float, min_score: float) -> list[list[Scored]]:
    """Runs of consecutive frames whose score is at least `share` of the best (in time order)."""
    top = max((s.score for s in scored), default=0.0)
    if top < min_score:
        return []
    found: list[list[Scored]] = []
    previous = False
    for s in scored:
        good = s.score >= share * top
        if good and previous:
            found[-1].append(s)
        elif good:
            found.append([s])
        previous = good
    return found


def picture(run: list[Scored], mean_frames: int) -> np.ndarray:
    """What to read of one run: the mean of up to `mean_frames` of its frames (its best frame when short)."""
    if len(run) < 3:
        return max(run, key=lambda s: s.score).image
    picks = [run[round(i)].image for i in np.linspace(0, len(run) - 1, min(mean_frames, len(run)))]
    return np.mean(np.stack(picks), axis=0).round().astype(np.uint8)


def shown_s(scored: list[Scored], step_s: float, share: float, min_score: float) -> float:
    """Seconds during which the steady detail is at least `share` of its best (the card is readable)."""
    top = max((s.score for s in scored), default=0.0)
    if top < min_score:
        return 0.0
    return step_s * sum(1 for s in scored if s.score >= share * top)
