"""The opening title card (片头): which of its five fields the OCR text of the first seconds shows.

A field is present when one of its labels is followed by a value on the same line
("主讲教师：王丽", "授课 王丽"), or when one of its value patterns is read anywhere
("人教版", "三年级上册", "《分数的初步认识》"). Labels and patterns are profile data.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pipelines.ocr.lines import OcrLine

FIELDS = ("教材版本", "学科", "年级", "课名", "主讲教师")


@dataclass(frozen=True)
class TitleCard:
    """What the opening seconds showed."""

    text_s: float                  # seconds of the window in which text was on screen
    present: tuple[str, ...]
    missing: tuple[str, ...]


def judge(lines: list[str], text_s: float, fields_cfg: Any, heading: str | None = None,
          heading_field: str = "课名") -> TitleCard:
    """Fields present in `lines` (OCR lines of the card), and the ones missing, in FIELDS order.
    An unlabelled `heading` (the card's largest line) stands for `heading_field` (the course name)."""
    lines = [_clean(line) for line in lines]
    names = list(fields_cfg.to_dict()) if hasattr(fields_cfg, "to_dict") else list(fields_cfg)
    present = tuple(n for n in names if _shows(lines, fields_cfg[n]) or (n == heading_field and heading))
    return TitleCard(text_s, present, tuple(n for n in names if n not in present))


def heading_of(lines: list[OcrLine], ratio: float) -> str | None:
    """The card's heading: its tallest line of Chinese text without a "label：" part, when it stands
    out (`ratio` times the median line height) or is the only line."""
    candidates = [ln for ln in lines if _cjk_count(ln.text) >= 2 and not _COLON.search(ln.text)]
    if not candidates:
        return None
    top = max(candidates, key=_height)
    median = sorted(_height(ln) for ln in lines)[len(lines) // 2]
    return top.text if len(lines) == 1 or _height(top) >= ratio * median else None


_COLON = re.compile(r"[:：]")


def _height(line: OcrLine) -> int:
    return line.box[3] - line.box[1]


def _cjk_count(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


def _clean(line: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", line))


def _shows(lines: list[str], field: Any) -> bool:
    labels = _label_pattern(tuple(field["labels"]))
    values = [_compiled(v) for v in field["values"]]
    return any(_labelled(labels, line) or any(v.search(line) for v in values) for line in lines)


def _labelled(labels: re.Pattern[str], line: str) -> bool:
    """The longest label at some place is followed by a value (not only a separator)."""
    return any(_VALUE.match(line, m.end()) for m in labels.finditer(line))


_VALUE = re.compile(r"[:：|/\-]?[^\s:：|/\-]")


@functools.lru_cache(maxsize=64)
def _label_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    """Any label, longest first (so "主讲教师" is not read as "主讲" + "教师")."""
    return re.compile("|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True)))


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
