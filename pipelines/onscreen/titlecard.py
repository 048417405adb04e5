"""The opening title card (片头): which of its five fields the OCR text of the first seconds shows.

A field is present when one of its labels is followed by a value on the same line
("主讲教师：王丽", "授课 王丽"), or when one of its value patterns is read anywhere
("人教版", "三年级上册", "《分数的初步认识》"). Labels and patterns are profile data.
A line that is a label alone (a table cell, a label above its value, a label in one column
and its value far right) is paired with its value by geometry: the nearest line to its right
on the same row, else the nearest line below it (`pairs`).
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


def read_values(lines: list[str], heading: str | None, fields_cfg: Any, heading_field: str = "课名") -> dict[str, str]:
    """What the card says for each field it shows: the value after a label ("主讲教师：王丽", "学科 数学",
    cut where the next label starts), else the unlabelled heading for `heading_field`, else the word (up to
    spaces and separators) in which a field's value pattern matches ("人教版", "三年级上册"). Fields the card
    does not show are left out."""
    names = list(fields_cfg.to_dict()) if hasattr(fields_cfg, "to_dict") else list(fields_cfg)
    labelled = _labelled_values(lines, fields_cfg, names)
    texts = [" ".join(unicodedata.normalize("NFKC", line).split()) for line in lines]
    out: dict[str, str] = {}
    for name in names:
        patterns = [_compiled(v) for v in fields_cfg[name]["values"]]
        found = labelled.get(name) or (heading if name == heading_field and heading else None) or next(
            (_word(text, m.start(), m.end()) for text in texts for p in patterns if (m := p.search(text))), None)
        if found:
            out[name] = found
    return out


def _word(text: str, start: int, end: int) -> str:
    """The match widened to the separators around it."""
    while start > 0 and text[start - 1] not in _BOUNDARY:
        start -= 1
    while end < len(text) and text[end] not in _BOUNDARY:
        end += 1
    return text[start:end]


def _labelled_values(lines: list[str], fields_cfg: Any, names: list[str]) -> dict[str, str]:
    """{field: value} of the labels that start a line or follow a space or separator."""
    owner = {label: n for n in names for label in fields_cfg[n]["labels"]}
    pattern = _label_pattern(tuple(owner))
    out: dict[str, str] = {}
    for line in lines:
        text = " ".join(unicodedata.normalize("NFKC", line).split())
        starts = [m for m in pattern.finditer(text) if m.start() == 0 or text[m.start() - 1] in _BOUNDARY]
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            value = text[m.end():end].strip(_BOUNDARY)
            if value and owner[m.group(0)] not in out:
                out[owner[m.group(0)]] = value
    return out


_BOUNDARY = " :：|/-"


def heading_of(lines: list[OcrLine], ratio: float, fields_cfg: Any) -> str | None:
    """The card's heading: its largest line of Chinese text that holds no label, when it stands out
    (`ratio` times the median character size) or is the only line; a vertical line (a course name
    written top to bottom) is the heading whatever its size."""
    labels = _label_pattern(_all_labels(fields_cfg))
    candidates = [ln for ln in lines if _cjk_count(ln.text) >= 2 and not _COLON.search(ln.text)
                  and not labels.search(_clean(ln.text))]
    if not candidates:
        return None
    top = max(candidates, key=lambda ln: (ln.vertical, _size(ln)))
    median = sorted(_size(ln) for ln in lines)[len(lines) // 2]
    return top.text if len(lines) == 1 or top.vertical or _size(top) >= ratio * median else None


def pairs(lines: list[OcrLine], fields_cfg: Any, reach: float, below: float) -> list[str]:
    """"label：value" for each line that is a label alone, joined to the nearest line on its right on the
    same row (within `reach` character sizes), else to the nearest line below it (within `below`
    sizes, overlapping it across); a neighbour that starts with a label is no value (the next labelled
    cell of a row, the next field of a column)."""
    labels = _label_pattern(_all_labels(fields_cfg))
    alone = [_label_alone(labels, ln.text) for ln in lines]
    out = []
    for i, line in enumerate(lines):
        if not alone[i]:
            continue
        others = [ln for j, ln in enumerate(lines) if j != i]
        near = [_right_of(line, others, reach), _below(line, others, below)]
        value = next((n for n in near if n is not None and not labels.match(_clean(n.text))), None)
        if value is not None:
            out.append(f"{_clean(line.text)}：{_clean(value.text)}")
    return out


def _label_alone(labels: re.Pattern[str], text: str) -> bool:
    return bool(labels.fullmatch(_SEPARATORS.sub("", _clean(text))))


def _right_of(line: OcrLine, others: list[OcrLine], reach: float) -> OcrLine | None:
    size = _size(line)
    row = [o for o in others if _row_overlap(line.box, o.box) >= 0.5 and o.box[0] >= line.box[2] - size / 2
           and o.box[0] - line.box[2] <= reach * size]
    return min(row, key=lambda o: o.box[0], default=None)


def _below(line: OcrLine, others: list[OcrLine], below: float) -> OcrLine | None:
    size = _size(line)
    under = [o for o in others if o.box[1] >= line.box[3] - size / 3 and o.box[1] - line.box[3] <= below * size
             and min(o.box[2], line.box[2] + size) > max(o.box[0], line.box[0] - size)]
    return min(under, key=lambda o: o.box[1], default=None)


def _row_overlap(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap / max(1, min(a[3] - a[1], b[3] - b[1]))


def _all_labels(fields_cfg: Any) -> tuple[str, ...]:
    names = list(fields_cfg.to_dict()) if hasattr(fields_cfg, "to_dict") else list(fields_cfg)
    return tuple(label for n in names for label in fields_cfg[n]["labels"])


_COLON = re.compile(r"[:：]")
_SEPARATORS = re.compile(r"[:：|/\-]")


def _size(line: OcrLine) -> int:
    """Character size: a horizontal line's height, a vertical line's width."""
    return min(line.box[3] - line.box[1], line.box[2] - line.box[0]) if line.vertical else line.box[3] - line.box[1]


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
