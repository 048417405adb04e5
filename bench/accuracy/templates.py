"""Slide and title-card templates for the benchmark lessons (all 1920x1080 layers over a background).

A slide template places a heading and body lines; variants differ in fonts, colours, dark or
light, a header bar, a school footer and page numbers. Title cards come in many layouts
(`CARDS`), each a function of the card's fields.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.accuracy.model import Background, Panel, Picture, Shot, Text

W, H = 1920, 1080


@dataclass(frozen=True)
class Style:
    """A slide look: background, heading and body fonts/colours, extras."""

    background: Background
    head_font: str = "sans-bold"
    head_fill: str = "#1a3e72"
    body_font: str = "sans"
    body_fill: str = "#222222"
    bar: str | None = None              # colour of a header bar behind the heading
    footer: str | None = None           # a school template footer (bottom left)
    numbered: bool = False              # a page number bottom right


LIGHT = Style(Background("solid", "#fbfaf4"))
DARK = Style(Background("solid", "#14202e"), head_fill="#f4d35e", body_fill="#eef2f6")
SERIF = Style(Background("solid", "#fffdf7"), "serif-bold", "#7a1f1f", "serif", "#2b2b2b")
BAR = Style(Background("solid", "#ffffff"), head_fill="#ffffff", bar="#2e7d32")
SCHOOL = Style(Background("solid", "#f7fbff"), bar="#1565c0", head_fill="#ffffff",
               footer="杭州市春晖小学 数学教研组", numbered=True)
GREEN_DARK = Style(Background("solid", "#0f3b2e"), "serif-bold", "#ffffff", "sans", "#e8f5e9")
ANIMATED = Style(Background("gradient", "#e3f2fd", "#fff3e0", seed=3))
STYLES = (LIGHT, DARK, SERIF, BAR, SCHOOL, GREEN_DARK, ANIMATED)


def slide(style: Style, heading: str, body: list[str], seconds: float = 4.0, page: int = 0, enter: str = "cut",
          inset: bool = False, subtitles: tuple[tuple[float, float, str], ...] = (),
          qr: tuple[str, int, int, int] | None = None, size: int = 54) -> Shot:
    """One slide: heading, body lines from the top left, the style's extras."""
    texts = [Text(heading, (W // 2, 70), 76, style.head_font, style.head_fill, "ma")]
    texts += [Text(line, (150, 250 + int(size * 1.9) * i), size, style.body_font, style.body_fill) for i, line in enumerate(body)]
    panels = [Panel((0, 0, W, 200), style.bar, 0)] if style.bar else []
    if style.footer:
        texts.append(Text(style.footer, (60, H - 70), 30, "sans", "#7b8794"))
    if style.numbered and page:
        texts.append(Text(f"第 {page} 页", (W - 220, H - 70), 30, "sans", "#7b8794"))
    return Shot(seconds, style.background, Picture(tuple(texts), tuple(panels), qr), enter, inset=inset,
                subtitles=subtitles)


@dataclass(frozen=True)
class Fields:
    """What a title card shows (an empty value: the field is left off the card)."""

    edition: str = "人教版"
    subject: str = "数学"
    grade: str = "三年级上册"
    title: str = "分数的初步认识"
    teacher: str = "王丽"
    subject_label: str = "学科"
    teacher_label: str = "主讲教师"

    def labelled(self, colon: str = "：", title_line: bool = True) -> list[str]:
        pairs = [("教材版本", self.edition), (self.subject_label, self.subject), ("年级", self.grade),
                 ("课名", self.title if title_line else ""), (self.teacher_label, self.teacher)]
        return [f"{k}{colon}{v}" for k, v in pairs if v]


def card_panel_stripes(f: Fields) -> Shot:
    """The issue's card: a white panel, the course name as a large heading over five "字段：值" lines,
    on an animated striped background."""
    lines = [Text(f.title, (W // 2, 200), 88, "sans-bold", "#0d47a1", "ma")] if f.title else []
    lines += [Text(t, (600, 360 + 105 * i), 56, "sans", "#212121") for i, t in enumerate(f.labelled())]
    return Shot(6.0, Background("stripes", "#90caf9", "#bbdefb"),
                Picture(tuple(lines), (Panel((420, 150, 1500, 930), "#ffffff"),)))


def card_dark_halfwidth(f: Fields) -> Shot:
    """Dark template, gold heading, half-width colons, 5 s."""
    lines = [Text(f.title, (W // 2, 150), 96, "serif-bold", "#f4d35e", "ma")] if f.title else []
    lines += [Text(t, (560, 340 + 110 * i), 58, "sans", "#f5f5f5") for i, t in enumerate(f.labelled(": "))]
    return Shot(5.0, Background("solid", "#101826"), Picture(tuple(lines)))


def card_two_columns(f: Fields) -> Shot:
    """Two columns without colons (label, space, value), animated gradient, 4 s."""
    items = [t.replace("：", "  ") for t in f.labelled()]
    lines = [Text(f"《{f.title}》", (W // 2, 160), 92, "sans-bold", "#4a148c", "ma")] if f.title else []
    lines += [Text(t, (220 + 820 * (i % 2), 420 + 150 * (i // 2)), 56, "sans", "#1b1b1b") for i, t in enumerate(items)]
    return Shot(4.0, Background("gradient", "#f3e5f5", "#e1f5fe", seed=11), Picture(tuple(lines)))


def card_vertical_heading(f: Fields) -> Shot:
    """The course name written vertically on the right (unlabelled); fields in a column on the left; 7 s."""
    lines = [Text(f.title, (1560, 140), 92, "serif-bold", "#8d2b0b", vertical=True)] if f.title else []
    lines += [Text(t, (200, 260 + 120 * i), 58, "serif", "#3e2723")
              for i, t in enumerate(f.labelled(title_line=False))]
    return Shot(7.0, Background("solid", "#f6efe0"), Picture(tuple(lines), (Panel((1460, 100, 1660, 980), "#efe2c8", 12),)))


def card_photo_fade(f: Fields) -> Shot:
    """A photograph (slow pan) behind a dark translucent panel, white text, fading in; 8 s."""
    lines = [Text(f.title, (W // 2, 220), 90, "sans-bold", "#ffffff", "ma")] if f.title else []
    lines += [Text(t, (560, 380 + 100 * i), 54, "sans", "#ffffff") for i, t in enumerate(f.labelled())]
    return Shot(8.0, Background("photo", seed=21), Picture(tuple(lines), (Panel((400, 160, 1520, 920), "#0b1f33c8"),)),
                enter="fade")


def card_values_only(f: Fields) -> Shot:
    """Values without labels on one line, the title in book-title marks, the teacher as "X老师"; 5 s, from black."""
    top = "  ".join(v for v in (f.edition, f.subject, f.grade) if v)
    lines = [Text(top, (W // 2, 300), 64, "serif", "#263238", "ma")] if top else []
    lines += [Text(f"《{f.title}》", (W // 2, 460), 100, "serif-bold", "#b71c1c", "ma")] if f.title else []
    lines += [Text(f"{f.teacher}老师", (W // 2, 700), 56, "serif", "#263238", "ma")] if f.teacher else []
    return Shot(5.0, Background("solid", "#fafafa"), Picture(tuple(lines)), enter="black")


def card_colour_labels(f: Fields) -> Shot:
    """Coloured labels, full-width colons, bold sans, light gradient with a header band; 3 s."""
    lines = [Text(f.title, (W // 2, 90), 84, "sans-bold", "#ffffff", "ma")] if f.title else []
    lines += [Text(t, (480, 330 + 112 * i), 56, "sans-bold", "#0d47a1" if i % 2 else "#e65100")
              for i, t in enumerate(f.labelled())]
    return Shot(3.0, Background("gradient", "#fff8e1", "#e8f5e9", seed=5), Picture(tuple(lines), (Panel((0, 40, W, 240), "#1565c0", 0),)))


def card_camera_lower_third(f: Fields) -> Shot:
    """Live camera (the teacher) with the card as a lower third and a side block; 6 s."""
    items = f.labelled()
    lines = [Text(f.title, (120, 640), 72, "sans-bold", "#ffffff")] if f.title else []
    lines += [Text(t, (120 + 560 * (i % 3), 780 + 90 * (i // 3)), 44, "sans", "#ffffff") for i, t in enumerate(items)]
    return Shot(6.0, Background("camera", seed=31), Picture(tuple(lines), (Panel((60, 600, 1860, 1000), "#000000b0", 16),)))


def card_secondary_push(f: Fields) -> Shot:
    """Secondary-school wording, the layer pushed in, mixed colon styles; 5 s."""
    colons = ["：", ":", " ", "：", "："]
    pairs = list(zip(["教材版本", f.subject_label, "年级", "课名", f.teacher_label],
                     [f.edition, f.subject, f.grade, f.title, f.teacher]))
    items = [f"{k}{c}{v}" for (k, v), c in zip(pairs, colons) if v]
    lines = [Text(t, (300, 220 + 130 * i), 60, "serif", "#102a43") for i, t in enumerate(items)]
    return Shot(5.0, Background("solid", "#e8eef5"), Picture(tuple(lines), (Panel((220, 160, 1700, 900), "#ffffffd8"),)),
                enter="push")


CARDS: dict[str, Callable[[Fields], Shot]] = {
    "panel-stripes": card_panel_stripes, "dark-halfwidth": card_dark_halfwidth, "two-columns": card_two_columns,
    "vertical-heading": card_vertical_heading, "photo-fade": card_photo_fade, "values-only": card_values_only,
    "colour-labels": card_colour_labels, "camera-lower-third": card_camera_lower_third,
    "secondary-push": card_secondary_push,
}


def _pairs(f: Fields) -> list[tuple[str, str]]:
    return [(k, v) for k, v in (("教材版本", f.edition), (f.subject_label, f.subject), ("年级", f.grade),
                                ("课名", f.title), (f.teacher_label, f.teacher))]


def _rules(left: int, top: int, widths: tuple[int, ...], rows: int, row_h: int, colour: str) -> list[Panel]:
    """A ruled grid as thin panels."""
    right, bottom = left + sum(widths), top + rows * row_h
    lines = [Panel((left, top + r * row_h, right, top + r * row_h + 3), colour, 0) for r in range(rows + 1)]
    xs = [left + sum(widths[:c]) for c in range(len(widths) + 1)]
    return lines + [Panel((x, top, x + 3, bottom), colour, 0) for x in xs]


def card_ruled_table(f: Fields) -> Shot:
    """A ruled table: label cell, value cell, no colons (a left-off field keeps its label, its cell empty); 6 s."""
    rows = _pairs(f)
    texts = [Text("课程信息", (W // 2, 90), 72, "sans-bold", "#263238", "ma")]
    for i, (label, value) in enumerate(rows):
        y = 250 + 130 * i + 32
        texts.append(Text(label, (480, y), 54, "sans", "#37474f"))
        if value:
            texts.append(Text(value, (900, y), 54, "sans", "#111111"))
    panels = [Panel((420, 230, 1500, 250 + 130 * len(rows) + 20), "#ffffff", 0),
              *_rules(440, 250, (400, 640), len(rows), 130, "#546e7a")]
    return Shot(6.0, Background("solid", "#eceff1"), Picture(tuple(texts), tuple(panels)))


def card_photo_columns(f: Fields) -> Shot:
    """White text straight on a photograph (slow pan), two columns of "label  value", no panel, no colons; 6 s."""
    items = [f"{k}  {v}" for k, v in _pairs(f) if v and k != "课名"]
    texts = [Text(f.title, (W // 2, 200), 96, "sans-bold", "#ffffff", "ma")] if f.title else []
    texts += [Text(t, (200 + 860 * (i % 2), 480 + 160 * (i // 2)), 60, "sans-bold", "#ffffff") for i, t in enumerate(items)]
    return Shot(6.0, Background("photo", seed=41), Picture(tuple(texts)))


def card_labels_above(f: Fields) -> Shot:
    """Small grey labels above large values in one row of cells, on scrolling stripes, no panel; 6 s."""
    texts = []
    for i, (label, value) in enumerate(_pairs(f)):
        x = 90 + 360 * i
        texts.append(Text(label, (x, 430), 40, "sans", "#37474f"))
        if value:
            texts.append(Text(value, (x, 500), 52 if len(value) <= 5 else 40, "sans-bold", "#0d47a1"))
    return Shot(6.0, Background("stripes", "#90caf9", "#bbdefb"), Picture(tuple(texts)))


def card_right_aligned(f: Fields) -> Shot:
    """Labels right-aligned in one column, values far right in another; dark, fading in; 7 s."""
    texts = []
    for i, (label, value) in enumerate(_pairs(f)):
        y = 220 + 130 * i
        texts.append(Text(label, (760 - 60 * len(label), y), 60, "serif", "#b0bec5"))
        if value:
            texts.append(Text(value, (1040, y), 60, "serif-bold", "#ffffff"))
    return Shot(7.0, Background("solid", "#0e1621"), Picture(tuple(texts)), enter="fade")


def card_vertical_table(f: Fields) -> Shot:
    """The course name written top to bottom on the left, the other fields in a ruled table on the right; 6 s."""
    rows = [(k, v) for k, v in _pairs(f) if k != "课名"]
    texts = [Text(f.title, (260, 120), 100, "serif-bold", "#5d1a0b", vertical=True)] if f.title else []
    for i, (label, value) in enumerate(rows):
        y = 260 + 140 * i + 38
        texts.append(Text(label, (740, y), 56, "serif", "#3e2723"))
        if value:
            texts.append(Text(value, (1140, y), 56, "serif", "#1b1b1b"))
    return Shot(6.0, Background("solid", "#f6efe0"),
                Picture(tuple(texts), tuple(_rules(700, 260, (400, 640), len(rows), 140, "#8d6e63"))))


def card_gradient_grid(f: Fields) -> Shot:
    """A 3 x 2 grid of cells, label over value, on an animated gradient; the name big on top; 5 s."""
    items = [(k, v) for k, v in _pairs(f) if k != "课名"]
    texts = [Text(f.title, (W // 2, 120), 92, "sans-bold", "#4a148c", "ma")] if f.title else []
    for i, (label, value) in enumerate(items):
        x, y = 260 + 760 * (i % 2), 400 + 260 * (i // 2)
        texts.append(Text(label, (x, y), 44, "sans", "#6a1b9a"))
        if value:
            texts.append(Text(value, (x, y + 70), 60, "sans-bold", "#212121"))
    return Shot(5.0, Background("gradient", "#f3e5f5", "#e1f5fe", seed=17), Picture(tuple(texts)))


def card_camera_band(f: Fields) -> Shot:
    """Live camera with a lower band of "label | value" items, three then two per row; 6 s."""
    items = [f"{k} | {v}" for k, v in _pairs(f) if v]
    texts = [Text(t, (120 + 600 * (i % 3), 760 + 110 * (i // 3)), 46, "sans", "#ffffff") for i, t in enumerate(items)]
    return Shot(6.0, Background("camera", seed=37), Picture(tuple(texts), (Panel((60, 720, 1860, 1000), "#102030c0", 10),)))


NEW_CARDS: dict[str, Callable[[Fields], Shot]] = {
    "ruled-table": card_ruled_table, "photo-columns": card_photo_columns, "labels-above": card_labels_above,
    "right-aligned": card_right_aligned, "vertical-table": card_vertical_table, "gradient-grid": card_gradient_grid,
    "camera-band": card_camera_band,
}


def card_plain(f: Fields, seconds: float = 5.0) -> Shot:
    """A plain static card (the lessons that test other things open with it)."""
    lines = [Text(f.title, (W // 2, 170), 84, "sans-bold", "#1a3e72", "ma")]
    lines += [Text(t, (640, 340 + 100 * i), 54, "sans", "#222222") for i, t in enumerate(f.labelled())]
    return Shot(seconds, Background("solid", "#fdfcf8"), Picture(tuple(lines)))
