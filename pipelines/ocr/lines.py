"""Read the text lines of one picture: PP-OCR finds line quads, each is cut out and recognised.

Detection runs on a copy whose longer side is `det_side`; each line is cut out of the full
picture. A detected box spanning two items of one row ("主讲教师 王丽      学科 数学") is cut
where it has no ink for `split_gap` line heights, so items keep their own boxes (the title
card pairs labels and values by geometry). A box `vertical_ratio` times taller than wide is a
vertical line (竖排): it is turned a quarter left, the first character leftmost, as PP-OCR's
recogniser was trained to read vertical lines (0.4 % CER on the OCR bench's vertical lines, 11 %
when the characters were cut apart and laid side by side).
One `read` is one OCR call of a picture.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pipelines.ocr import engine
from pipelines.ocr.engine import Box


@dataclass(frozen=True)
class OcrLine:
    """One recognised line: text, confidence (0-100), box (picture pixels), written top to bottom or not."""

    text: str
    conf: float
    box: Box
    vertical: bool = False


def union(boxes: list[Box]) -> Box:
    """The smallest box around `boxes`."""
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


class Reader:
    """OCR of gray pictures; the settings come from profile `onscreen.ocr`."""

    def __init__(self, cfg: Any):
        self.cfg = cfg
        self.engine = engine.engine(cfg)

    def read(self, gray: np.ndarray) -> list[OcrLine]:
        """Lines of `gray` in reading order (top to bottom, left to right)."""
        boxes = [_bounds(quad, gray.shape) for quad in self.engine.detect(gray)]
        boxes = join_columns(boxes, self.cfg.column_gap, self.cfg.column_pieces, self.cfg.vertical_ratio)
        boxes = [piece for box in boxes for piece in self._pieces(gray, box)]
        return self._recognised(gray, reading_order(boxes))

    def read_line(self, gray: np.ndarray, box: Box) -> OcrLine | None:
        """Recognise one box as a single line; None when nothing credible."""
        found = self._recognised(gray, [_clip(box, gray.shape)])
        return found[0] if found else None

    def _pieces(self, gray: np.ndarray, box: Box) -> list[Box]:
        if _is_vertical(box, self.cfg.vertical_ratio):
            return [box]
        return split_at_gaps(gray, box, self.cfg.split_gap)

    def _recognised(self, gray: np.ndarray, boxes: list[Box]) -> list[OcrLine]:
        vertical = [_is_vertical(b, self.cfg.vertical_ratio) for b in boxes]
        crops = [_crop(gray, b, self.cfg.pad_share, v) for b, v in zip(boxes, vertical)]
        lines = []
        for box, upright, (text, score) in zip(boxes, vertical, self.engine.recognise(crops)):
            text = " ".join(text.split())
            if text and 100 * score >= self.cfg.min_line_conf:
                lines.append(OcrLine(text, round(100 * score, 1), box, upright))
        return lines


def join_columns(boxes: list[Box], gap: float, pieces: int, ratio: float) -> list[Box]:
    """Boxes stacked one under another, aligned, at most `gap` widths apart (a vertical line that detection
    cut into characters, large type with wide spacing), joined when at least `pieces` of them make a
    vertical line or one of them already is one."""
    chains: list[list[Box]] = []
    for box in sorted((b for b in boxes if b[3] - b[1] >= 0.8 * (b[2] - b[0])), key=lambda b: b[1]):  # a character or taller
        chain = next((c for c in chains if _continues(c[-1], box, gap)), None)
        if chain is None:
            chains.append([box])
        else:
            chain.append(box)
    joined = [c for c in chains if len(c) > 1 and _is_vertical(union(c), ratio)
              and (len(c) >= pieces or any(_is_vertical(b, ratio) for b in c))]
    used = {b for c in joined for b in c}
    return [b for b in boxes if b not in used] + [union(c) for c in joined]


def _continues(above: Box, box: Box, gap: float) -> bool:
    w_above, w_box = above[2] - above[0], box[2] - box[0]
    overlap = min(above[2], box[2]) - max(above[0], box[0])
    return (overlap >= 0.7 * min(w_above, w_box) and max(w_above, w_box) <= 1.4 * min(w_above, w_box)
            and -0.2 * w_above <= box[1] - above[3] <= gap * w_above)


def reading_order(boxes: list[Box]) -> list[Box]:
    """Rows top to bottom (boxes whose middles lie within each other's height share a row), left to right."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b[1] + b[3]) / 2):
        middle = (box[1] + box[3]) / 2
        row = rows[-1] if rows else None
        if row and all(b[1] <= middle <= b[3] and box[1] <= (b[1] + b[3]) / 2 <= box[3] for b in row):
            row.append(box)
        else:
            rows.append([box])
    return [box for row in rows for box in sorted(row)]


def _bounds(quad: engine.Quad, shape: tuple[int, ...]) -> Box:
    xs, ys = quad[:, 0], quad[:, 1]
    return _clip((int(np.floor(xs.min())), int(np.floor(ys.min())), int(np.ceil(xs.max())) + 1,
                  int(np.ceil(ys.max())) + 1), shape)


def _is_vertical(box: Box, ratio: float) -> bool:
    return box[3] - box[1] >= ratio * (box[2] - box[0])


def split_at_gaps(gray: np.ndarray, box: Box, gap: float) -> list[Box]:
    """Cut a line box where it has no ink for more than `gap` line heights (two items on one row)."""
    left, top, right, bottom = box
    crop = gray[top:bottom, left:right]
    if crop.size == 0:
        return [box]
    ink = _ink(crop)
    columns = np.flatnonzero(ink.any(axis=0))
    if columns.size == 0:
        return [box]
    breaks = np.flatnonzero(np.diff(columns) > max(1, int(gap * (bottom - top))))
    starts, ends = np.r_[columns[0], columns[breaks + 1]], np.r_[columns[breaks], columns[-1]]
    if len(starts) == 1:
        return [box]
    return [(left + int(a), top, left + int(b) + 1, bottom) for a, b in zip(starts, ends)]


def _ink(crop: np.ndarray) -> np.ndarray:
    """Ink pixels of a text crop (Otsu; the ink is the minority)."""
    _, ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return 1 - ink if ink.mean() > 0.5 else ink


def _crop(gray: np.ndarray, box: Box, pad_share: float, vertical: bool) -> np.ndarray:
    left, top, right, bottom = box
    pad = max(2, int(min(right - left, bottom - top) * pad_share))
    crop = gray[max(0, top - pad):bottom + pad, max(0, left - pad):right + pad]
    return np.ascontiguousarray(np.rot90(crop)) if vertical else crop  # the top character leftmost


def _clip(box: tuple[int, ...], shape: tuple[int, ...]) -> Box:
    h, w = shape[:2]
    return max(0, box[0]), max(0, box[1]), min(w, box[2]), min(h, box[3])
