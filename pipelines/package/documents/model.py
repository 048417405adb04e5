"""What a document reader hands on: text blocks and pictures, each on a page or slide."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from pipelines.errors import LessonQCError
from pipelines.ocr.engine import Box

Unit = Literal["page", "slide"]


class DocumentUnreadable(LessonQCError):
    """A package document cannot be opened; the message says why (corrupt, encrypted, legacy)."""


@dataclass(frozen=True)
class TextBlock:
    """A paragraph (or table row, text box, note, header, footer) of one page or slide."""

    text: str
    page: int
    part: str          # body, table, textbox, header, footer, notes, master


@dataclass(frozen=True)
class Picture:
    """A picture to read: `load()` gives the gray canvas (an embedded image, or a rendered PDF
    page); `region` is the part of it to read (None: all). Boxes are canvas pixels."""

    page: int
    part: str          # image, page
    key: str           # identical pictures share a key (read once)
    load: Callable[[], np.ndarray | None]
    region: Box | None = None
    text: bool = True  # OCR (ads, traditional characters)
    codes: bool = True  # QR codes and barcodes


class PageView(Protocol):
    """Laid-out pages: a page's picture, and where a text span is on it."""

    def canvas(self, number: int) -> np.ndarray | None: ...

    def find(self, text: str, near: int) -> tuple[int, Box] | None: ...


@dataclass
class Document:
    """A readable package document."""

    format: str
    unit: Unit
    pages: int
    blocks: list[TextBlock] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    landscape: bool = False                              # a slide-shaped PDF
    scanned_pages: int = 0
    view: Callable[[], PageView | None] | None = None   # the laid-out pages (a PDF; an Office file converted)
    exact_pages: bool = True                             # False: `page` numbers are estimates (a .docx)

    def text(self, limit: int | None = None) -> str:
        """All text in reading order (the first `limit` characters)."""
        joined = "\n".join(b.text for b in self.blocks)
        return joined if limit is None else joined[:limit]
