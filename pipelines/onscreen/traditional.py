"""Traditional (and variant) characters on screen.

PP-OCR reads simplified and traditional characters in one pass, as written (學習目標 stays
學習目標), so a frame's text is judged on the recognised characters: a character is
traditional when OpenCC's phrase-aware conversion (its character, phrase and variant tables)
turns it into another one in context (乾坤 stays, 乾淨 becomes 干净). A frame is flagged
when enough of its characters that have two forms are traditional. Lines with kana
(Japanese) are left alone: foreign-language text is not flagged.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.ocr.lines import OcrLine, has_cjk, union
from pipelines.ocr.engine import Box


@dataclass(frozen=True)
class TraditionalText:
    """What one frame shows in traditional characters."""

    chars: tuple[str, ...]     # distinct traditional characters, in reading order
    text: str                  # the flagged lines
    box: Box                   # around the flagged lines
    traditional: int           # characters read as traditional ...
    candidates: int            # ... of the characters that have both forms


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


def traditional_chars(text: str) -> list[str]:
    """CJK characters of `text` that OpenCC turns into other (simplified) characters, in order."""
    simple = to_simplified_text(text)
    if len(simple) == len(text):
        pairs = zip(text, simple)
    else:
        pairs = ((c, to_simplified(c)) for c in text)
    return [c for c, s in pairs if c != s and has_cjk(c)]


def _two_forms(char: str) -> bool:
    return bool(traditional_forms(char)) or to_simplified(char) != char


class TraditionalJudge:
    """Finds traditional characters in a frame's lines; settings: `onscreen.traditional`."""

    def __init__(self, cfg: Any):
        self.cfg = cfg

    def judge(self, lines: list[OcrLine]) -> TraditionalText | None:
        """Traditional text among `lines`; None when it is simplified."""
        total, chars, flagged = 0, [], []
        for line in lines:
            if not has_cjk(line.text) or has_kana(line.text) or line.conf < self.cfg.min_line_conf:
                continue
            total += sum(1 for c in line.text if _two_forms(c))
            found = traditional_chars(line.text)
            if found:
                chars += found
                flagged.append(line)
        if len(chars) < self.cfg.min_chars or len(chars) < self.cfg.min_share * max(1, total):
            return None
        box = union([line.box for line in flagged])
        return TraditionalText(tuple(dict.fromkeys(chars)), "\n".join(l.text for l in flagged), box, len(chars), total)
