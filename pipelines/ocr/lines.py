"""Read the text lines of one frame: find lines, normalise their size, recognise each.

Tesseract reads CJK best at 15-45 px line height; slide text runs from 15 to 150 px.
So lines are found by layout analysis on reduced copies of the frame (a fine scale
for small text, a coarse one for titles), and each line is cut out of the full frame,
scaled to `line_height` and recognised alone. One `read` is one OCR call of a frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from pipelines.ocr import engine
from pipelines.ocr.engine import PSM_SINGLE_LINE, Box, Engine, Symbol


@dataclass(frozen=True)
class OcrLine:
    """One recognised line: text, mean confidence, box and characters (frame pixels)."""

    text: str
    conf: float
    box: Box
    symbols: tuple[Symbol, ...] = field(default=(), repr=False)


def union(boxes: list[Box]) -> Box:
    """The smallest box around `boxes`."""
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


class Reader:
    """OCR of gray frames with one engine; the settings come from profile `onscreen.ocr`."""

    def __init__(self, cfg: Any, languages: str):
        self.cfg = cfg
        self.engine = engine.engine(languages)

    def read(self, gray: np.ndarray, boxes: list[Box] | None = None) -> list[OcrLine]:
        """Lines of `gray`; `boxes` reuses line boxes found before (e.g. by another engine)."""
        lines = [self.read_line(gray, box) for box in (find_lines(self.engine, gray, self.cfg) if boxes is None else boxes)]
        return [line for line in lines if line is not None]

    def read_page(self, gray: np.ndarray) -> list[OcrLine]:
        """Lines of `gray` by tesseract's own page layout on the whole picture (slower than `read`, but
        it keeps its footing on busy backgrounds: stripes, photographs); lines of low confidence are dropped."""
        found = [OcrLine(" ".join(text.split()), conf, box) for text, conf, box in self.engine.page_lines(gray)]
        return [line for line in found if line.conf >= self.cfg.min_line_conf]

    def read_line(self, gray: np.ndarray, box: Box) -> OcrLine | None:
        """Recognise one line box, scaled to the configured line height; None when nothing credible."""
        crop, scale, origin = _normalised_crop(gray, box, self.cfg.line_height, self.cfg.pad_share)
        symbols = [_to_frame(s, scale, origin) for s in self.engine.symbols(crop, PSM_SINGLE_LINE)]
        symbols = [s for s in symbols if s.conf >= self.cfg.min_symbol_conf]
        if not symbols:
            return None
        conf = float(np.mean([s.conf for s in symbols]))
        if conf < self.cfg.min_line_conf:
            return None
        return OcrLine(_join(symbols), conf, box, tuple(symbols))


def find_lines(engine: Engine, gray: np.ndarray, cfg: Any) -> list[Box]:
    """Line boxes in frame pixels. Large lines come from a coarse copy; small ones from a fine
    copy in which the large lines are blanked (layout analysis takes small text next to large
    text for noise)."""
    fine = _layout(engine, gray, cfg.fine_height, cfg.min_layout_px, 10**6)
    coarse = _layout(engine, gray, cfg.coarse_height, cfg.max_fine_px * cfg.coarse_height / cfg.fine_height, 10**6)
    coarse = [c for c in coarse if _rows([f for f in fine if _covered(f, c)]) <= 1]
    if coarse:
        fine = _layout(engine, _blanked(gray, coarse), cfg.fine_height, cfg.min_layout_px, 10**6)
    kept: list[Box] = []
    for box in sorted(coarse + fine, key=_area, reverse=True):
        if not any(_covered(box, k) for k in kept):
            kept.append(box)
    kept = [row for box in kept for row in _rows_in_block(gray, box, cfg)]
    pieces = [p for box in kept for p in _split_at_gaps(gray, box, cfg.split_gap)]
    return _merge_rows(sorted(pieces, key=lambda b: (b[0], b[1])), cfg.row_gap)


def _rows_in_block(gray: np.ndarray, box: Box, cfg: Any) -> list[Box]:
    """A "line" taller than `max_line_share` of the frame is a block layout analysis could not split (text
    over a photograph or a filmed picture): its text rows are found by their sharp edges instead, closed
    along the row; a block without such rows is a picture and gives nothing."""
    left, top, right, bottom = box
    limit = cfg.max_line_share * gray.shape[0]
    if bottom - top <= limit:
        return [box]
    crop = gray[top:bottom, left:right]
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    edges = (cv2.morphologyEx(crop, cv2.MORPH_GRADIENT, kernel) >= cfg.block_edge_delta).astype(np.uint8)
    reach = max(3, int(gray.shape[0] * cfg.block_close_share))
    rows = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((1, reach), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(rows, connectivity=8)
    found = []
    for x, y, w, h, area in stats[1:count]:
        if cfg.min_layout_px * 2 <= h <= limit and w >= 1.5 * h and area >= cfg.block_fill * w * h:
            found.append((left + int(x), top + int(y), left + int(x + w), top + int(y + h)))
    return found


def _split_at_gaps(gray: np.ndarray, box: Box, gap: float) -> list[Box]:
    """Cut a line box where it has no ink for more than `gap` line heights (two items on one row)."""
    left, top, right, bottom = box
    crop = gray[top:bottom, left:right]
    if crop.size == 0:
        return [box]
    _, ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if ink.mean() > 0.5:
        ink = 1 - ink  # ink is the minority
    columns = np.flatnonzero(ink.any(axis=0))
    if columns.size == 0:
        return [box]
    breaks = np.flatnonzero(np.diff(columns) > max(1, int(gap * (bottom - top))))
    starts, ends = np.r_[columns[0], columns[breaks + 1]], np.r_[columns[breaks], columns[-1]]
    return [(left + int(a), top, left + int(b) + 1, bottom) for a, b in zip(starts, ends)]


def _blanked(gray: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """`gray` with each box filled by the median of a ring around it."""
    out = gray.copy()
    for left, top, right, bottom in boxes:
        pad = max(2, (bottom - top) // 6)
        y0, y1, x0, x1 = max(0, top - pad), min(gray.shape[0], bottom + pad), max(0, left - pad), min(gray.shape[1], right + pad)
        ring = np.concatenate([gray[y0, x0:x1], gray[y1 - 1, x0:x1], gray[y0:y1, x0], gray[y0:y1, x1 - 1]])
        out[y0:y1, x0:x1] = np.uint8(np.median(ring))
    return out


def _rows(boxes: list[Box]) -> int:
    """How many separate rows `boxes` stand on (a coarse box over several rows is a block, not a line)."""
    rows: list[tuple[int, int]] = []
    for box in sorted(boxes, key=lambda b: b[1]):
        if rows and box[1] < rows[-1][1] - 0.3 * (rows[-1][1] - rows[-1][0]):
            rows[-1] = (rows[-1][0], max(rows[-1][1], box[3]))
        else:
            rows.append((box[1], box[3]))
    return len(rows)


def _merge_rows(boxes: list[Box], gap: float) -> list[Box]:
    """Join boxes that continue each other on one row (layout sometimes splits a line)."""
    merged: list[Box] = []
    for box in boxes:
        for i, prev in enumerate(merged):
            if _same_row(prev, box, gap):
                merged[i] = (prev[0], min(prev[1], box[1]), max(prev[2], box[2]), max(prev[3], box[3]))
                break
        else:
            merged.append(box)
    return sorted(merged, key=lambda b: (b[1], b[0]))


def _same_row(a: Box, b: Box, gap: float) -> bool:
    ha, hb = a[3] - a[1], b[3] - b[1]
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap >= 0.6 * min(ha, hb) and max(ha, hb) <= 1.5 * min(ha, hb) and b[0] - a[2] <= gap * max(ha, hb)


def _layout(engine: Engine, gray: np.ndarray, height: int, min_px: float, max_px: float) -> list[Box]:
    scale = min(1.0, height / gray.shape[0])
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    pad = max(8, small.shape[0] // 40)  # layout analysis drops text that touches the picture's edge
    padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    boxes = [(b[0] - pad, b[1] - pad, b[2] - pad, b[3] - pad) for b in engine.layout_lines(padded)]
    boxes = [b for b in boxes if min_px <= b[3] - b[1] <= max_px and b[2] - b[0] >= max(min_px, 0.6 * (b[3] - b[1]))]
    return [_clip(tuple(int(round(v / scale)) for v in b), gray.shape) for b in boxes]


def _clip(box: tuple[int, ...], shape: tuple[int, ...]) -> Box:
    h, w = shape[:2]
    return max(0, box[0]), max(0, box[1]), min(w, box[2]), min(h, box[3])


def _area(box: Box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _covered(box: Box, by: Box) -> bool:
    """True when most of `box` lies inside `by`."""
    w = min(box[2], by[2]) - max(box[0], by[0])
    h = min(box[3], by[3]) - max(box[1], by[1])
    area = max(1, _area(box))
    return w > 0 and h > 0 and w * h / area > 0.5


def _normalised_crop(gray: np.ndarray, box: Box, line_height: int, pad_share: float) -> tuple[np.ndarray, float, tuple[int, int]]:
    left, top, right, bottom = box
    pad = max(2, int((bottom - top) * pad_share))
    x0, y0 = max(0, left - pad), max(0, top - pad)
    x1, y1 = min(gray.shape[1], right + pad), min(gray.shape[0], bottom + pad)
    scale = line_height / max(1, bottom - top)
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    crop = cv2.resize(gray[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=method)
    return crop, scale, (x0, y0)


def _to_frame(symbol: Symbol, scale: float, origin: tuple[int, int]) -> Symbol:
    l, t, r, b = symbol.box
    box = (int(l / scale) + origin[0], int(t / scale) + origin[1], int(r / scale) + origin[0], int(b / scale) + origin[1])
    return Symbol(symbol.text, symbol.conf, box, symbol.word_start)


def _join(symbols: list[Symbol]) -> str:
    """Text of a line: words separated by a space, except next to CJK characters."""
    out = [symbols[0].text]
    for prev, cur in zip(symbols, symbols[1:]):
        if cur.word_start and not (has_cjk(prev.text) or has_cjk(cur.text)):
            out.append(" ")
        out.append(cur.text)
    return "".join(out)
