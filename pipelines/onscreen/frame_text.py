"""Everything read from one distinct frame: text lines, ads, codes, traditional characters."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from pipelines.ocr.lines import OcrLine, Reader
from pipelines.onscreen.codes import Code, find_codes
from pipelines.onscreen.ad_rules import Hit, find_ads, load_rules, rules_path
from pipelines.onscreen.citations import load_sources, separate
from pipelines.onscreen.traditional import TraditionalJudge, TraditionalText

T = TypeVar("T")


@dataclass
class Reading:
    """One OCR call's worth of results for a frame."""

    lines: list[OcrLine] = field(default_factory=list)
    ads: list[Hit] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    traditional: TraditionalText | None = None
    citations: list[Hit] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return any(len(line.text.strip()) >= 2 for line in self.lines)


class FrameReader:
    """Reads frames with the profile's `onscreen` settings; engines load once per thread."""

    def __init__(self, cfg: Any):
        self.cfg = cfg
        self.reader = Reader(cfg.ocr)
        self.judge = TraditionalJudge(cfg.traditional)
        self.rules = load_rules(rules_path(cfg.ads.rules_file))
        self.sources = load_sources(rules_path(cfg.citations.file))
        self.seconds: dict[str, float] = {"ocr": 0.0, "codes": 0.0}

    def read(self, gray: np.ndarray, codes: bool = True) -> Reading:
        """OCR `gray` once and apply every text check to the lines (`codes`: look for QR codes too)."""
        lines = self._timed("ocr", lambda: self.reader.read(gray))
        texts = [line.text for line in lines]
        ads, citations = separate(find_ads(texts, self.rules), texts, self.sources)
        reading = Reading(lines, ads, citations=citations)
        if codes and self.cfg.qr.enabled:
            reading.codes = self._timed("codes", lambda: find_codes(gray, self.cfg.qr.barcodes))
        reading.traditional = self.judge.judge(lines)
        return reading

    def read_lines(self, gray: np.ndarray) -> list[OcrLine]:
        """Only the text lines of `gray` (one OCR call)."""
        return self._timed("ocr", lambda: self.reader.read(gray))

    def read_row(self, gray: np.ndarray, box: tuple[int, int, int, int]) -> OcrLine | None:
        """The text of one row box of a full picture (lines found in it, joined left to right)."""
        margin = (box[3] - box[1]) // 2
        x0, y0 = max(0, box[0]), max(0, box[1] - margin)
        x1, y1 = min(box[2], gray.shape[1]), min(box[3] + margin, gray.shape[0])
        lines = self._timed("ocr", lambda: self.reader.read(np.ascontiguousarray(gray[y0:y1, x0:x1])))
        if not lines:
            return None
        return OcrLine(" ".join(line.text for line in lines), min(line.conf for line in lines), (x0, y0, x1, y1))

    def read_region(self, gray: np.ndarray) -> list[OcrLine]:
        """Lines of a small picture (a watermark's region); read as one line when layout finds none."""
        lines = self._timed("ocr", lambda: self.reader.read(gray))
        whole = (0, 0, gray.shape[1], gray.shape[0])
        return lines or [line for line in [self._timed("ocr", lambda: self.reader.read_line(gray, whole))] if line]

    def _timed(self, what: str, fn: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return fn()
        finally:
            self.seconds[what] += time.perf_counter() - started
