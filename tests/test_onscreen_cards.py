"""Title cards of many layouts read field for field (labels paired with values by geometry), each on
its own frames; with one field left off, exactly that field is missing over the opening window."""
from __future__ import annotations

from pathlib import Path

import pytest

from testmedia.cache import cached
from testmedia.cards import Card, card_video
from testmedia.slides import SANS, SANS_BOLD, SERIF, Slide, Text
from tests.test_onscreen import near, only, run_stage

FIELDS = ["教材版本", "学科", "年级", "课名", "主讲教师"]
VALUES = {"教材版本": "人教版", "学科": "数学", "年级": "三年级上册", "课名": "分数的初步认识", "主讲教师": "王丽"}
SLIDES = (Slide((Text("学习目标", (90, 60), 48, SANS_BOLD, "#1a3e72"), Text("认识几分之一", (90, 170), 36)), 4.0),
          Slide((Text("课堂练习", (90, 60), 48, SANS_BOLD, "#1a3e72"), Text("比较大小", (90, 170), 36)), 4.0))
WHITE = "#ffffff"


def _pairs(left_out: str) -> list[tuple[str, str]]:
    return [(k, "" if k == left_out else v) for k, v in VALUES.items()]


def table(left_out: str) -> Card:
    """A ruled table, label cell | value cell, no colons; the left-out value's cell stays empty."""
    rows = _pairs(left_out)
    lines, rules = [], []
    for i, (label, value) in enumerate(rows):
        y = 120 + 90 * i
        lines += [Text(label, (250, y + 20), 36, SANS)] + ([Text(value, (560, y + 20), 36, SANS)] if value else [])
    for i in range(len(rows) + 1):
        rules.append((220, 120 + 90 * i, 1060, 120 + 90 * i))
    rules += [(x, 120, x, 120 + 90 * len(rows)) for x in (220, 520, 1060)]
    return Card(tuple(lines), rules=tuple(rules), bg="#ffffff")


def photo_columns(left_out: str) -> Card:
    """White text straight on a panning photograph, two columns of "label  value" without colons."""
    items = [f"{k}  {v}" for k, v in _pairs(left_out) if v]
    lines = [Text(t, (120 + 560 * (i % 2), 200 + 110 * (i // 2)), 40, SANS_BOLD, WHITE) for i, t in enumerate(items)]
    return Card(tuple(lines), background="photo")


def labels_above(left_out: str) -> Card:
    """Small labels above large values in a row of cells, on scrolling stripes without a panel."""
    lines = []
    for i, (label, value) in enumerate(_pairs(left_out)):
        x = 60 + 240 * i
        lines.append(Text(label, (x, 250), 28, SANS, "#37474f"))
        if value:
            lines.append(Text(value, (x, 300), 36 if len(value) < 6 else 30, SANS_BOLD, "#0d47a1"))
    return Card(tuple(lines), background="stripes")


def vertical_name(left_out: str) -> Card:
    """The course name written top to bottom on the right, unlabelled; fields on the left, label space value."""
    vertical = (Text(VALUES["课名"], (1080, 90), 64, SERIF, "#8d2b0b"),) if left_out != "课名" else ()
    items = [f"{k} {v}" for k, v in _pairs(left_out) if v and k != "课名"]
    lines = tuple(Text(t, (150, 180 + 100 * i), 40, SERIF, "#3e2723") for i, t in enumerate(items))
    return Card(lines, vertical=vertical)


def fading_columns(left_out: str) -> Card:
    """Labels right-aligned in one column, values in another far to the right; dark, fading in over 1.5 s."""
    lines = []
    for i, (label, value) in enumerate(_pairs(left_out)):
        y = 140 + 95 * i
        lines.append(Text(label, (420 - 40 * len(label), y), 40, SANS, "#b0bec5"))
        if value:
            lines.append(Text(value, (760, y), 40, SANS_BOLD, "#f5f5f5"))
    return Card(tuple(lines), bg="#101826", fade_s=1.5)


LAYOUTS = {"table": (table, "主讲教师"), "photo-columns": (photo_columns, "年级"), "labels-above": (labels_above, "学科"),
           "vertical-name": (vertical_name, "教材版本"), "fading-columns": (fading_columns, "课名")}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_card_layout_reads_every_field_but_the_left_out_one(name: str, media_cache: Path, tmp_path: Path) -> None:
    layout, left_out = LAYOUTS[name]
    path = cached(media_cache, f"card-{name}.mp4", card_video, layout(left_out), SLIDES)
    card = only(run_stage(path, tmp_path), "intro.title_card")
    assert card.evidence["missing"] == [left_out], card.evidence
    assert card.evidence["present"] == [f for f in FIELDS if f != left_out]
    assert card.start_s == 0.0 and near(card.end_s, 8.0, 0.5)


@pytest.mark.parametrize("name", ["table", "vertical-name"])
def test_complete_card_raises_nothing(name: str, media_cache: Path, tmp_path: Path) -> None:
    layout, _ = LAYOUTS[name]
    path = cached(media_cache, f"card-{name}-complete.mp4", card_video, layout(""), SLIDES)
    output = run_stage(path, tmp_path)
    assert [f.code for f in output.findings if f.code == "intro.title_card"] == []


def test_card_is_judged_on_its_own_frames(media_cache: Path, tmp_path: Path) -> None:
    """A card without the teacher, then (within the window) a slide naming a teacher: the card's own
    reading counts, so the teacher is still missing and the evidence is the card's text."""
    naming = Slide((Text("主讲教师：李明", (90, 200), 44),), 4.0)
    path = cached(media_cache, "card-own-frames.mp4", card_video, photo_columns("主讲教师"), (naming, *SLIDES))
    card = only(run_stage(path, tmp_path), "intro.title_card")
    assert card.evidence["missing"] == ["主讲教师"]
    assert "李明" not in card.evidence["text"] and "人教版" in card.evidence["text"]
