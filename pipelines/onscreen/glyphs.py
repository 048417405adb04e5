"""Which of a few candidate characters a glyph on screen looks like (template matching).

Used to tell a traditional character from its simplified form: both are rendered in
reference CJK fonts at the line's size and matched (normalised correlation, small
shift and scale search) against the region around the glyph. The forms differ in
their strokes (認/认, 體/体), which outweighs the differences between typefaces.
"""
from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

RENDER_PX = 64
SCALES = (0.9, 1.0, 1.1)


@functools.lru_cache(maxsize=8)
def _font(path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, RENDER_PX)


@functools.lru_cache(maxsize=20000)
def _glyph(char: str, font: str) -> np.ndarray | None:
    """The character's ink, tight-cropped, drawn dark on light at RENDER_PX."""
    canvas = Image.new("L", (RENDER_PX * 2, RENDER_PX * 2), 255)
    ImageDraw.Draw(canvas).text((RENDER_PX // 2, RENDER_PX // 2), char, font=_font(font), fill=0)
    ink = np.asarray(canvas)
    ys, xs = np.nonzero(ink < 128)
    if ys.size == 0:
        return None
    return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


class GlyphMatcher:
    """Scores characters against screen regions with the given reference fonts."""

    def __init__(self, fonts: list[str]):
        self.fonts = [f for f in fonts if Path(f).is_file()]

    @property
    def usable(self) -> bool:
        return bool(self.fonts)

    def score(self, region: np.ndarray, char: str, em_px: float) -> float:
        """Best normalised correlation of `char` (1 em = `em_px` pixels) anywhere in `region`."""
        best = -1.0
        for font in self.fonts:
            glyph = _glyph(char, font)
            if glyph is None:
                continue
            for scale in SCALES:
                best = max(best, _match(region, glyph, em_px * scale / RENDER_PX))
        return best

    def best_of(self, region: np.ndarray, chars: list[str], em_px: float) -> tuple[str, float]:
        """The best-matching character and its margin over the runner-up."""
        if float(np.median(region)) < 128:
            region = 255 - region  # light text on a dark background
        scores = sorted(((self.score(region, c, em_px), c) for c in chars), reverse=True)
        runner_up = scores[1][0] if len(scores) > 1 else -1.0
        return scores[0][1], scores[0][0] - runner_up


def _match(region: np.ndarray, glyph: np.ndarray, factor: float) -> float:
    h, w = max(3, int(round(glyph.shape[0] * factor))), max(3, int(round(glyph.shape[1] * factor)))
    if h > region.shape[0] or w > region.shape[1]:
        return -1.0
    template = cv2.resize(glyph, (w, h), interpolation=cv2.INTER_AREA)
    if float(template.std()) < 1.0:
        return -1.0
    return float(cv2.matchTemplate(region, template, cv2.TM_CCOEFF_NORMED).max())
