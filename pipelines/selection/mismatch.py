"""`intro.metadata_mismatch`: the title card's fields (read by the on-screen stage) against the metadata.

Only a field both sides give is compared, each in its tolerant way (normalise.py): 主讲教师 one of
the card's names; 课名 and 学科 one containing the other; 教材版本 the same edition; 年级 the same grade,
and the same 册次 when both name one (the card's "七年级上册" against grade 初一 with volume "1").
A field the card lacks is `intro.title_card`'s business, not this one's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from pipelines.domain import Finding

from . import normalise as norm
from .config import Selection
from .metadata import LessonMeta


@dataclass(frozen=True)
class Disagreement:
    field: str          # the card's field name (主讲教师, ...)
    card: str           # what the card says
    metadata: str       # what the submission says


def compare(card: dict[str, str], meta: LessonMeta, cfg: Selection) -> list[Disagreement]:
    """Each card field that disagrees with the metadata (fields in the card's order)."""
    out = []
    for name, said in card.items():
        check = _CHECKS.get(name)
        declared = _declared(name, meta)
        if check is None or not declared or not norm.plain(said):
            continue
        if not check(said, declared, meta, cfg):
            out.append(Disagreement(name, said, declared))
    return out


def findings(card: dict[str, Any] | None, meta: LessonMeta, cfg: Selection) -> list[Finding]:
    """One finding per disagreeing field over the card's time range (`card`: metrics.onscreen.title_card)."""
    if not card or not isinstance(card.get("fields"), dict):
        return []
    start, end = card.get("start_s"), card.get("end_s")
    out = []
    for d in compare(card["fields"], meta, cfg):
        evidence = {"field": d.field, "card": d.card, "metadata": d.metadata}
        message = (f"片头{d.field}“{d.card}”与申报信息“{d.metadata}”不一致"
                   f" / title card {d.field} disagrees with the submission's metadata")
        out.append(Finding("intro.metadata_mismatch", cfg.severity.metadata_mismatch, message,  # type: ignore[arg-type]
                           start, end, evidence))
    return out


def _declared(name: str, meta: LessonMeta) -> str:
    """The metadata's value for a card field (年级 with the node's 册次 when it has one)."""
    node = meta.node
    if name == "主讲教师":
        return meta.teacher or ""
    if name == "课名":
        return meta.title or ""
    if name == "学科":
        return meta.subject or (node.subject if node else "") or ""
    if name == "教材版本":
        return node.edition if node else ""
    if name == "年级":
        parts = [p for p in (meta.grade, node.volume if node else None) if p]
        return " ".join(parts)
    return ""


def _teacher(card: str, declared: str, meta: LessonMeta, cfg: Selection) -> bool:
    """The declared name is one of the card's names; a card "name" longer than any name (the reading ran
    into the next cell: "分数的初步认识王丽") agrees when it starts or ends with it."""
    names = {_no_suffix(norm.plain(n), cfg) for n in re.split(f"[{re.escape(cfg.card.name_separators)}]+", card)}
    name = _no_suffix(norm.plain(declared), cfg)
    return name in names or any(len(n) > cfg.card.max_name_chars and (n.startswith(name) or n.endswith(name))
                                for n in names)


def _no_suffix(name: str, cfg: Selection) -> str:
    for suffix in cfg.card.teacher_suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _contained(a: str, b: str, cfg: Selection) -> bool:
    shorter = min(len(a), len(b))
    return a == b or (shorter >= cfg.card.min_contained_chars and (a in b or b in a))


def _title(card: str, declared: str, meta: LessonMeta, cfg: Selection) -> bool:
    return _contained(norm.plain(card), norm.plain(declared), cfg)


def _subject(card: str, declared: str, meta: LessonMeta, cfg: Selection) -> bool:
    return _contained(norm.subject(card, cfg), norm.subject(declared, cfg), cfg)


def _edition(card: str, declared: str, meta: LessonMeta, cfg: Selection) -> bool:
    return norm.edition(card, cfg) == norm.edition(declared, cfg)


def _grade(card: str, declared: str, meta: LessonMeta, cfg: Selection) -> bool:
    card_grade, card_volume = norm.grade_and_volume(card, cfg)
    grade = norm.grade_and_volume(meta.grade, cfg)[0] if meta.grade else ""
    node_grade, volume = norm.grade_and_volume(meta.node.volume, cfg) if meta.node else ("", "")
    volume = volume or (norm.grade_and_volume(meta.grade, cfg)[1] if meta.grade else "")
    grade = grade or node_grade
    return (not (card_grade and grade) or card_grade == grade) and (not (card_volume and volume) or card_volume == volume)


_CHECKS: dict[str, Callable[[str, str, LessonMeta, Selection], bool]] = {
    "主讲教师": _teacher, "课名": _title, "学科": _subject, "教材版本": _edition, "年级": _grade}
