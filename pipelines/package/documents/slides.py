""".pptx: text frames, tables, groups, pictures and notes of every slide, plus what the slide
layouts and masters in use draw on every slide (logos, footers; not their placeholder prompts)."""
from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree
from pptx import Presentation
from pptx.exc import PackageNotFoundError
from pptx.enum.shapes import MSO_SHAPE_TYPE

from pipelines.package.documents.images import gray_image
from pipelines.package.documents.model import Document, DocumentUnreadable, Picture, TextBlock


def read(path: Path, cfg: Any) -> Document:
    """Text blocks and pictures of a .pptx, slide by slide."""
    try:
        deck = Presentation(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise DocumentUnreadable(f"无法打开演示文稿 / cannot open the .pptx: {exc}") from None
    doc = Document("pptx", "slide", len(deck.slides))
    templates: dict[int, int] = {}   # layout or master part id -> first slide using it
    for number, slide in enumerate(deck.slides, 1):
        if number > cfg.max_pages:
            break
        _read_shapes(slide.shapes, number, "body", doc, cfg)
        if slide.has_notes_slide:
            _add_text(doc, slide.notes_slide.notes_text_frame.text if slide.notes_slide.notes_text_frame else "",
                      number, "notes")
        for template in (slide.slide_layout, slide.slide_layout.slide_master):
            templates.setdefault(id(template), number)
            if templates[id(template)] == number:
                _read_shapes(template.shapes, number, "master", doc, cfg, placeholders=False)
    return doc


def _read_shapes(shapes: Any, number: int, part: str, doc: Document, cfg: Any, placeholders: bool = True) -> None:
    for shape in _flat(shapes):
        if not placeholders and shape.is_placeholder:
            continue
        if shape.has_text_frame:
            _add_text(doc, shape.text_frame.text, number, part)
        if getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                _add_text(doc, " ".join(cell.text for cell in row.cells), number, "table" if part == "body" else part)
        blob = _image_blob(shape)
        if blob:
            max_px = cfg.max_image_px
            doc.pictures.append(Picture(number, "image" if part == "body" else f"{part}-image",
                                        hashlib.sha1(blob).hexdigest(), lambda b=blob: gray_image(b, max_px)))


def _flat(shapes: Any) -> Iterator[Any]:
    """Every shape, group members included."""
    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _flat(shape.shapes)
        else:
            yield shape


def _image_blob(shape: Any) -> bytes | None:
    """The picture of a picture shape or filled picture placeholder, else None."""
    try:
        return shape.image.blob
    except (AttributeError, KeyError, ValueError):
        return None


def _add_text(doc: Document, text: str, number: int, part: str) -> None:
    for line in text.splitlines():
        if line.strip():
            doc.blocks.append(TextBlock(line.strip(), number, part))
