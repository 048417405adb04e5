"""Reading a document picture with the video frames' reader: OCR, ads, codes, traditional characters.

A picture taller than `band_aspect` times its width (a long screenshot, a poster) is read in
overlapping bands, so its lines keep a readable size when detection scales the band down; a
scanned A4 page is read whole. Boxes come back in the picture's (canvas) pixels.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipelines.ocr.engine import Box
from pipelines.ocr.lines import union
from pipelines.onscreen.ad_rules import Hit
from pipelines.onscreen.codes import Code, find_codes
from pipelines.onscreen.frame_text import FrameReader


@dataclass
class PictureReading:
    """What one picture shows: ad matches with their lines' boxes, codes, traditional characters."""

    ads: list[tuple[Hit, str, Box]] = field(default_factory=list)   # (match, its line's text, line box)
    codes: list[Code] = field(default_factory=list)
    traditional: list[tuple[str, ...]] = field(default_factory=list)  # chars per band
    traditional_text: list[str] = field(default_factory=list)
    traditional_boxes: list[Box] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.ads or self.codes or self.traditional)


def bands(height: int, width: int, aspect: float, overlap: float) -> list[tuple[int, int]]:
    """(top, bottom) rows of overlapping bands `aspect` × width high covering `height` rows."""
    band = max(16, int(width * aspect))
    if height <= band * 1.2:
        return [(0, height)]
    step = max(1, int(band * (1.0 - overlap)))
    tops = list(range(0, height - band, step)) + [height - band]
    return [(top, top + band) for top in tops]


def read_codes(canvas: np.ndarray, region: Box | None, qr: Any) -> list[Code]:
    """QR codes and barcodes in `region` of `canvas` (settings `onscreen.qr`)."""
    if not qr.enabled:
        return []
    x0, y0, x1, y1 = region or (0, 0, canvas.shape[1], canvas.shape[0])
    return [_shift_code(c, x0, y0) for c in find_codes(np.ascontiguousarray(canvas[y0:y1, x0:x1]), qr.barcodes)]


def read_text(reader: FrameReader, canvas: np.ndarray, region: Box | None, cfg: Any) -> PictureReading:
    """OCR of `region` of `canvas` (all of it when None), band by band: ads and traditional characters."""
    x0, y0, x1, y1 = region or (0, 0, canvas.shape[1], canvas.shape[0])
    area = canvas[y0:y1, x0:x1]
    out = PictureReading()
    if min(area.shape[:2]) < cfg.min_image_px:
        return out
    for top, bottom in bands(area.shape[0], area.shape[1], cfg.band_aspect, cfg.band_overlap):
        _read_band(reader, area[top:bottom], x0, y0 + top, out)
    return out


def _read_band(reader: FrameReader, band: np.ndarray, dx: int, dy: int, out: PictureReading) -> None:
    reading = reader.read(np.ascontiguousarray(band), codes=False)
    seen = {_squash(hit.text) for hit, _, _ in out.ads}
    for hit in reading.ads:
        if _squash(hit.text) not in seen:
            line = reading.lines[hit.line]
            out.ads.append((hit, line.text, _shift(line.box, dx, dy)))
            seen.add(_squash(hit.text))
    if reading.traditional is not None:
        out.traditional.append(reading.traditional.chars)
        out.traditional_text.append(reading.traditional.text)
        out.traditional_boxes.append(_shift(reading.traditional.box, dx, dy))


def traditional_box(reading: PictureReading) -> Box | None:
    return union(reading.traditional_boxes) if reading.traditional_boxes else None


def _shift(box: Box, dx: int, dy: int) -> Box:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


def _shift_code(code: Code, dx: int, dy: int) -> Code:
    return Code(code.kind, code.payload, _shift(code.box, dx, dy))


def _squash(text: str) -> str:
    return re.sub(r"[\s\-]", "", text)
