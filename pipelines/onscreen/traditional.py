"""Traditional (and variant) characters on screen.

chi_sim maps traditional glyphs onto simplified characters (and chi_tra the reverse),
both with high confidence, so a reading alone cannot tell. Each character that has
traditional forms is therefore checked against the pixels: its simplified and
traditional forms are rendered at the line's size and matched (pipelines/glyphs.py).
Lines with traditional glyphs are then read with chi_tra, whose traditional characters
are checked the same way. Lines with kana (Japanese) are left alone: foreign-language
text is not flagged.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.onscreen.glyphs import GlyphMatcher
from pipelines.ocr.lines import OcrLine, Reader, has_cjk, union
from pipelines.ocr.engine import Box, Symbol


@dataclass(frozen=True)
class TraditionalText:
    """What one frame shows in traditional characters."""

    chars: tuple[str, ...]     # distinct traditional characters, in reading order
    text: str                  # the chi_tra reading of the flagged lines
    box: Box                   # around the flagged lines
    traditional: int           # glyphs judged traditional ...
    candidates: int            # ... of the glyphs that have both forms


@functools.lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc
    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=20000)
def to_simplified(char: str) -> str:
    return _converter().convert(char)


@functools.lru_cache(maxsize=1)
def _traditional_forms() -> dict[str, tuple[str, ...]]:
    """simplified -> its traditional forms, from OpenCC's STCharacters table."""
    import opencc
    table: dict[str, tuple[str, ...]] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "STCharacters.txt"
    for row in path.read_text(encoding="utf-8").splitlines():
        simplified, _, forms = row.partition("\t")
        others = tuple(f for f in forms.split() if f != simplified)
        if len(simplified) == 1 and others:
            table[simplified] = others
    return table


def to_simplified_text(text: str) -> str:
    """`text` converted phrase by phrase (乾坤 stays, 乾淨 becomes 干净)."""
    return _converter().convert(text)


def traditional_forms(char: str) -> tuple[str, ...]:
    return _traditional_forms().get(char, ())


def has_kana(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" for ch in text)


class TraditionalJudge:
    """Finds traditional glyphs in a frame's chi_sim lines; settings: `onscreen.traditional`."""

    def __init__(self, cfg: Any, reader: Reader):
        self.cfg = cfg
        self.reader = reader
        self.glyphs = GlyphMatcher(list(cfg.fonts))

    def judge(self, gray: np.ndarray, lines: list[OcrLine]) -> TraditionalText | None:
        """Traditional text in `gray`, given its chi_sim `lines`; None when it is simplified."""
        if not self.glyphs.usable:
            return None
        total, flagged = 0, []
        for line in lines:
            if not has_cjk(line.text) or has_kana(line.text):
                continue
            votes = [self._vote(gray, line, s, (s.text, *traditional_forms(s.text))) for s in line.symbols
                     if traditional_forms(s.text)]
            total += len(votes)
            if any(v for v in votes):
                flagged.append(line)
        return self._summarise(gray, flagged, total)

    def _vote(self, gray: np.ndarray, line: OcrLine, symbol: Symbol, forms: tuple[str, ...]) -> str | None:
        """The traditional form this glyph shows, or None when it shows the simplified one."""
        em = line.box[3] - line.box[1]
        best, margin = self.glyphs.best_of(_region(gray, line.box, symbol.box), list(forms), em)
        return best if best != forms[0] and margin >= self.cfg.min_margin else None

    def _summarise(self, gray: np.ndarray, flagged: list[OcrLine], total: int) -> TraditionalText | None:
        chars: list[str] = []
        texts: list[str] = []
        for line in flagged:
            reading = self.reader.read_line(gray, line.box)
            if reading is None:
                continue
            texts.append(reading.text)
            chars += self._confirmed(gray, reading)
        if len(chars) < self.cfg.min_chars or len(chars) < self.cfg.min_share * max(1, total):
            return None
        box = union([line.box for line in flagged])
        return TraditionalText(tuple(dict.fromkeys(chars)), "\n".join(texts), box, len(chars), total)

    def _confirmed(self, gray: np.ndarray, reading: OcrLine) -> list[str]:
        """chi_tra's traditional characters on this line that the pixels confirm."""
        found = []
        for s in reading.symbols:
            simple = to_simplified(s.text)
            if simple != s.text and s.conf >= self.cfg.min_symbol_conf \
                    and self._vote(gray, reading, s, (simple, s.text)) is not None:
                found.append(s.text)
        return found


def _region(gray: np.ndarray, line: Box, symbol: Box) -> np.ndarray:
    """Around one glyph: the line's height plus a margin, one em either side of its centre."""
    em = line[3] - line[1]
    cx = (symbol[0] + symbol[2]) // 2
    y0, y1 = max(0, line[1] - em // 3), min(gray.shape[0], line[3] + em // 3)
    x0, x1 = max(0, cx - em), min(gray.shape[1], cx + em)
    return gray[y0:y1, x0:x1]
