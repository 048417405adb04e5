"""Text as compared between a title card and the metadata: one form for every way of writing it.

NFKC (full-width letters, digits and punctuation become half-width), traditional → simplified
(OpenCC t2s), lower case, spaces and punctuation removed; then the tables of config/selection.yaml
map each alias (初一, 人民教育出版社, "1") to its canonical name (七年级, 人教版, 上册).
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import Mapping

from .config import Selection

_GRADE = re.compile(r"^(?P<grade>.+?年级|高[一二三]|初[一二三])(?P<volume>.*)$")


def plain(text: str | None) -> str:
    """NFKC, simplified, lower case, without spaces and punctuation."""
    if not text:
        return ""
    text = _t2s(unicodedata.normalize("NFKC", text)).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


@functools.lru_cache(maxsize=1)
def _converter():  # noqa: ANN202 - opencc has no type hints
    import opencc

    return opencc.OpenCC("t2s")


def _t2s(text: str) -> str:
    return _converter().convert(text)


def canonical(text: str | None, table: Mapping[str, tuple[str, ...]]) -> str:
    """The canonical name `text` is an alias of (itself, plain, when none)."""
    value = plain(text)
    return _aliases(tuple((k, v) for k, v in table.items())).get(value, value)


@functools.lru_cache(maxsize=16)
def _aliases(table: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, aliases in table:
        for alias in (name, *aliases):
            out[plain(alias)] = plain(name)
    return out


def edition(text: str | None, cfg: Selection) -> str:
    """人民教育出版社 / 人教 / 人教版 → 人教版: compared without a trailing 出版社 / 出版 / 版 / 社 (a card's
    "北京师范大学出版" is 北师大版)."""
    value = _edition_stem(plain(text))
    stems = {_edition_stem(plain(alias)): plain(name) for name, aliases in cfg.editions.items()
             for alias in (name, *aliases)}
    return stems.get(value, value)


def _edition_stem(text: str) -> str:
    return _EDITION_SUFFIX.sub("", text) or text


_EDITION_SUFFIX = re.compile(r"(出版社|出版|版|社)$")


def grade_and_volume(text: str | None, cfg: Selection) -> tuple[str, str]:
    """"七年级上册" → (七年级, 上册); "初一" → (七年级, ""); a text with no grade → ("", its volume)."""
    value = plain(text)
    match = _GRADE.match(value)
    grade, rest = (match["grade"], match["volume"]) if match else ("", value)
    return canonical(grade, cfg.grades) if grade else "", canonical(rest, cfg.volumes) if rest else ""


def subject(text: str | None, cfg: Selection) -> str:
    return canonical(text, cfg.subjects)
