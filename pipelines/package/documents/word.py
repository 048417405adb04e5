""".docx: paragraphs, tables, text boxes, headers and footers, embedded pictures (python-docx).

A .docx has no pages until it is laid out; pages are counted from the page breaks Word
recorded when it last laid the file out (w:lastRenderedPageBreak), or else from explicit
page breaks. Headers and footers are reported on page 1 (they show on every page).
"""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import docx
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree

from pipelines.package.documents.images import gray_image
from pipelines.package.documents.model import Document, DocumentUnreadable, Picture, TextBlock

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
V_IMAGEDATA = "{urn:schemas-microsoft-com:vml}imagedata"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
PARTS_BY_ANCESTOR = ((W + "txbxContent", "textbox"), (W + "tbl", "table"))


def read(path: Path, cfg: Any) -> Document:
    """Text blocks and pictures of a .docx."""
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise DocumentUnreadable(f"无法打开 Word 文档 / cannot open the .docx: {exc}") from None
    walker = Walker(cfg)
    walker.walk(document.element.body, document.part, "body")
    for part, kind in _headers_footers(document):
        walker.walk(part.element, part, kind, page=1)
    return Document("docx", "page", walker.last_page, walker.blocks, walker.pictures, exact_pages=False)


def _headers_footers(document: Any) -> list[tuple[Any, str]]:
    """Each distinct header/footer part with its kind."""
    seen: dict[str, tuple[Any, str]] = {}
    for section in document.sections:
        for kind in ("header", "footer"):
            for attr in (kind, f"first_page_{kind}", f"even_page_{kind}"):
                item = getattr(section, attr)
                if not item.is_linked_to_previous:
                    seen.setdefault(str(item.part.partname), (item.part, kind))
    return list(seen.values())


class Walker:
    """Walks WordprocessingML in document order, grouping text by paragraph and counting pages."""

    def __init__(self, cfg: Any):
        self.cfg = cfg
        self.blocks: list[TextBlock] = []
        self.pictures: list[Picture] = []
        self.last_page = 1

    def walk(self, root: Any, part: Any, base: str, page: int | None = None) -> None:
        rendered = next(root.iter(W + "lastRenderedPageBreak"), None) is not None
        current, texts, where = 1, {}, {}
        for el in root.iter():
            if page is None and _is_break(el, rendered):
                current += 1
            elif el.tag == W + "t" and not _in_fallback(el):
                para = _paragraph(el)
                texts.setdefault(para, []).append(el.text or "")
                where.setdefault(para, (page or current, _part_of(el, base)))
            elif el.tag == W + "tab" and not _in_fallback(el):
                texts.setdefault(_paragraph(el), []).append(" ")
            elif el.tag in (A_BLIP, V_IMAGEDATA) and not _in_fallback(el):
                self._picture(el, part, page or current, base)
        self.last_page = max(self.last_page, current)
        for para, pieces in texts.items():
            text = "".join(pieces).strip()
            if text and para in where:
                self.blocks.append(TextBlock(text, *where[para]))

    def _picture(self, el: Any, part: Any, page: int, base: str) -> None:
        rid = el.get(R + "embed") or el.get(R + "id")
        target = part.related_parts.get(rid) if rid else None
        blob = getattr(target, "blob", None)
        if not blob:
            return
        key = hashlib.sha1(blob).hexdigest()
        max_px = self.cfg.max_image_px
        kind = "image" if base == "body" else f"{base}-image"
        self.pictures.append(Picture(page, kind, key, lambda b=blob: gray_image(b, max_px)))


def _is_break(el: Any, rendered: bool) -> bool:
    if rendered:
        return el.tag == W + "lastRenderedPageBreak"
    return el.tag == W + "br" and el.get(W + "type") == "page"


def _paragraph(el: Any) -> Any:
    """The nearest enclosing w:p (text boxes hold paragraphs inside paragraphs)."""
    node = el.getparent()
    while node is not None and node.tag != W + "p":
        node = node.getparent()
    return node


def _part_of(el: Any, base: str) -> str:
    for node in el.iterancestors():
        for tag, part in PARTS_BY_ANCESTOR:
            if node.tag == tag:
                return part if base == "body" else f"{base}-{part}"
    return base


def _in_fallback(el: Any) -> bool:
    """Inside mc:Fallback: a copy of a text box or drawing for old readers (read once, via mc:Choice)."""
    return any(node.tag == MC_FALLBACK for node in el.iterancestors())
