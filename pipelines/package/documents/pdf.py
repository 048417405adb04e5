""".pdf (pypdfium2): the text layer of each page, and the page rendered once for its pictures.

Each page is rendered gray at `render_dpi`: the whole page is searched for codes (a QR code may
be drawn as vector paths), the areas of its image objects are read with OCR (a scanned page
is one image over the whole page), and text-layer findings are boxed on it.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipelines.ocr.engine import Box
from pipelines.package.documents.model import Document, DocumentUnreadable, Picture, TextBlock


def read(path: Path, cfg: Any) -> Document:
    """Text blocks and page pictures of a PDF."""
    pdf = _open(path)
    source = PdfSource(pdf, cfg.render_dpi, cfg.max_render_px)
    doc = Document("pdf", "page", len(pdf), view=lambda: source)
    for number in range(1, min(len(pdf), cfg.max_pages) + 1):
        _read_page(source, number, doc, cfg)
    first = pdf[0] if len(pdf) else None
    doc.landscape = first is not None and first.get_width() > first.get_height()
    return doc


def open_view(path: Path, cfg: Any) -> PdfSource:
    """Laid-out pages of a PDF (e.g. an Office file converted for its pictures)."""
    return PdfSource(_open(path), cfg.render_dpi, cfg.max_render_px)


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise DocumentUnreadable("PDF 已加密（需要密码）/ the PDF is encrypted (password)") from None
        raise DocumentUnreadable(f"无法打开 PDF / cannot open the PDF: {exc}") from None


def _read_page(source: PdfSource, number: int, doc: Document, cfg: Any) -> None:
    text = source.text(number)
    for line in text.splitlines():
        if line.strip():
            doc.blocks.append(TextBlock(line.strip(), number, "body"))
    regions = source.image_regions(number, cfg.min_image_share)
    if regions and len(text.strip()) < cfg.scanned_max_chars:
        doc.scanned_pages += 1
    load = functools.partial(source.canvas, number)
    doc.pictures.append(Picture(number, "page", f"page-{number}", load, text=False, codes=True))
    for index, region in enumerate(regions):
        doc.pictures.append(Picture(number, "image", f"page-{number}-{index}", load, region, text=True, codes=False))


class PdfSource:
    """An open PDF: page text, image areas, rendered pages (the last one kept) and text boxes."""

    def __init__(self, pdf: pdfium.PdfDocument, dpi: float, max_px: int):
        self.pdf = pdf
        self.dpi_scale = dpi / 72.0
        self.max_px = max_px
        self._rendered: tuple[int, np.ndarray] | None = None

    def scale_of(self, number: int) -> float:
        """Points -> pixels for page `number`: the dpi, unless its longer side would pass `max_px`."""
        page = self.pdf[number - 1]
        return min(self.dpi_scale, self.max_px / max(1.0, page.get_width(), page.get_height()))

    def text(self, number: int) -> str:
        return self.pdf[number - 1].get_textpage().get_text_range()

    def image_regions(self, number: int, min_share: float) -> list[Box]:
        """Pixel boxes of the page's image objects covering at least `min_share` of it."""
        page = self.pdf[number - 1]
        width, height = page.get_width(), page.get_height()
        boxes = []
        for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
            left, bottom, right, top = obj.get_bounds()
            left, right = max(0.0, left), min(width, right)
            bottom, top = max(0.0, bottom), min(height, top)
            if right > left and top > bottom and (right - left) * (top - bottom) >= min_share * width * height:
                boxes.append(self._pixels(left, bottom, right, top, height, self.scale_of(number)))
        return boxes

    def canvas(self, number: int) -> np.ndarray | None:
        """Page `number` rendered gray (the last page rendered is kept)."""
        if self._rendered is None or self._rendered[0] != number:
            bitmap = self.pdf[number - 1].render(scale=self.scale_of(number), grayscale=True)
            self._rendered = (number, np.ascontiguousarray(bitmap.to_numpy().reshape(bitmap.height, bitmap.width, -1)[:, :, 0]))
        return self._rendered[1]

    def find(self, text: str, near: int) -> tuple[int, Box] | None:
        """(page, box) of `text`: on page `near` if it is there, else on the first page that has it."""
        order = [near] + [n for n in range(1, len(self.pdf) + 1) if n != near]
        for number in (n for n in order if 1 <= n <= len(self.pdf)):
            box = self.locate(number, text)
            if box is not None:
                return number, box
        return None

    def locate(self, number: int, text: str) -> Box | None:
        """The box of `text` on page `number`'s picture, when the text layer has it."""
        page = self.pdf[number - 1]
        textpage = page.get_textpage()
        found = textpage.search(text, match_case=False).get_next()
        if not found:
            return None
        index, count = found
        boxes = [textpage.get_charbox(i) for i in range(index, index + count)]
        left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
        right, top = max(b[2] for b in boxes), max(b[3] for b in boxes)
        return self._pixels(left, bottom, right, top, page.get_height(), self.scale_of(number))

    @staticmethod
    def _pixels(left: float, bottom: float, right: float, top: float, height: float, s: float) -> Box:
        return int(left * s), int((height - top) * s), int(right * s), int((height - bottom) * s)
