"""doc.ad, doc.qr_code and doc.traditional: the video's on-screen norms applied to documents.

Text (paragraphs, tables, text boxes, notes, headers, footers, PDF text layers) is matched with
the same advertising rules as OCR lines; traditional characters in text are found by OpenCC's
phrase-aware conversion. Pictures (embedded images, rendered PDF pages) go through the frame
reader. Evidence names the file, the page or slide, the part and the text span; a finding with
a picture gets a thumbnail of it with the box drawn.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.domain import Finding
from pipelines.ocr.engine import Box
from pipelines.ocr.lines import union
from pipelines.onscreen.ad_rules import Hit, find_ads, load_rules, rules_path
from pipelines.onscreen.citations import load_sources, separate
from pipelines.onscreen.evidence import draw_boxes
from pipelines.onscreen.frame_text import FrameReader
from pipelines.onscreen.traditional import to_simplified, traditional_chars
from pipelines.package.documents.model import Document, Picture, TextBlock
from pipelines.package.pictures import PictureReading, read_codes, read_text, traditional_box

UNIT_LABEL = {"page": "页", "slide": "张幻灯片"}
SPAN_CHARS = 60


def span(text: str, piece: str) -> str:
    """`piece` with some context from `text` (the text span a reviewer reads)."""
    at = text.find(piece)
    if at < 0 or len(text) <= 2 * SPAN_CHARS:
        return text[: 2 * SPAN_CHARS]
    start = max(0, at - SPAN_CHARS // 2)
    return ("…" if start else "") + text[start:at + len(piece) + SPAN_CHARS // 2] + "…"


class DocChecker:
    """Checks documents with a profile's on-screen rules; thumbnails go into `workdir`."""

    def __init__(self, profile: Any, workdir: Path, prefix: str = "doc"):
        self.prefix = prefix
        self.onscreen = profile.onscreen
        self.cfg = profile.package.documents
        self.rules = load_rules(rules_path(self.onscreen.ads.rules_file))
        self.sources = load_sources(rules_path(self.onscreen.citations.file))
        self.workdir = workdir
        self._reader: FrameReader | None = None
        self.thumbnails = 0
        self.metrics: dict[str, float] = {"pages": 0, "pictures_read": 0, "pictures_unreadable": 0,
                                          "scanned_pages": 0, "citations": 0, "text_s": 0.0, "pictures_s": 0.0}

    @property
    def reader(self) -> FrameReader:
        """The frame reader (the PP-OCR engine), loaded on the first picture with text."""
        if self._reader is None:
            self._reader = FrameReader(self.onscreen)
        return self._reader

    def check(self, name: str, doc: Document) -> list[Finding]:
        """Every doc.* finding of one document."""
        self.metrics["pages"] += min(doc.pages, self.cfg.max_pages)
        self.metrics["scanned_pages"] += doc.scanned_pages
        started = time.perf_counter()
        findings = self._text(name, doc)
        self.metrics["text_s"] += time.perf_counter() - started
        started = time.perf_counter()
        findings += self._pictures(name, doc)
        self.metrics["pictures_s"] += time.perf_counter() - started
        return findings

    # text -------------------------------------------------------------------------------------
    def _text(self, name: str, doc: Document) -> list[Finding]:
        by_page: dict[int, list[TextBlock]] = {}
        for block in doc.blocks:
            by_page.setdefault(block.page, []).append(block)
        findings: list[Finding] = []
        for page, blocks in by_page.items():
            texts = [b.text for b in blocks]
            hits, cited = separate(find_ads(texts, self.rules), texts, self.sources)   # official sources: not ads
            self.metrics["citations"] += len(cited)
            if hits:
                findings.append(self._text_ad(name, doc, page, blocks, hits))
            found = self._text_traditional(name, doc, page, blocks)
            if found is not None:
                findings.append(found)
        return findings

    def _text_ad(self, name: str, doc: Document, page: int, blocks: list[TextBlock], hits: list[Hit]) -> Finding:
        matches = [{"rule": h.rule, "label": h.label, "text": h.text, "part": blocks[h.line].part} for h in hits]
        evidence = self._where(name, doc, page, sorted({m["part"] for m in matches}))
        evidence.update(text="\n".join(span(blocks[h.line].text, h.text) for h in hits), matches=matches)
        finding = Finding("doc.ad", self.onscreen.ads.severity, _ad_message(hits, evidence), evidence=evidence)
        self._boxed_page(finding, doc, page, [h.text for h in hits])
        return finding

    def _text_traditional(self, name: str, doc: Document, page: int, blocks: list[TextBlock]) -> Finding | None:
        lines = [(b, traditional_chars(b.text)) for b in blocks]
        lines = [(b, chars) for b, chars in lines if chars]
        chars = list(dict.fromkeys(c for _, found in lines for c in found))
        if sum(len(found) for _, found in lines) < self.cfg.min_traditional_chars:
            return None
        evidence = self._where(name, doc, page, sorted({b.part for b, _ in lines}))
        evidence.update(chars=chars, simplified=[to_simplified(c) for c in chars],
                        text="\n".join(span(b.text, found[0]) for b, found in lines[:5]))
        message = f"文档出现繁体字/异体字：{''.join(chars)} / traditional characters in a document ({_place(evidence)})"
        finding = Finding("doc.traditional", self.onscreen.traditional.severity, message, evidence=evidence)
        self._boxed_page(finding, doc, page, [_needle(b.text, f[0]) for b, f in lines[:3]])
        return finding

    def _boxed_page(self, finding: Finding, doc: Document, page: int, texts: list[str]) -> None:
        """The laid-out page's picture with the boxes of `texts`. A .docx's page number is an
        estimate: the page where the layout shows the text replaces it."""
        view = doc.view() if doc.view is not None else None
        if view is None:
            return
        found = [f for f in (view.find(t, page) for t in texts if t) if f is not None]
        if doc.exact_pages:
            found = [f for f in found if f[0] == page]
        if not found:
            return
        shown = found[0][0]
        boxes = [box for number, box in found if number == shown]
        finding.evidence["box"] = list(union(boxes))
        if shown != page:
            finding.evidence.update({doc.unit: shown, "page_estimated": page})
        self._thumbnail(finding, view.canvas(shown), boxes)

    # pictures ---------------------------------------------------------------------------------
    def _pictures(self, name: str, doc: Document) -> list[Finding]:
        made: dict[str, list[Finding]] = {}
        for picture in doc.pictures:
            if picture.key in made:
                _also_on(made[picture.key], doc.unit, picture.page)
                continue
            canvas = picture.load()
            if canvas is None:
                self.metrics["pictures_unreadable"] += 1
                made[picture.key] = []
                continue
            made[picture.key] = self._picture(name, doc, picture, canvas)
        return [f for found in made.values() for f in found]

    def _picture(self, name: str, doc: Document, picture: Picture, canvas: np.ndarray) -> list[Finding]:
        if min(canvas.shape[:2]) < self.cfg.min_image_px:
            return []
        self.metrics["pictures_read"] += 1
        reading = PictureReading()
        if picture.text:
            reading = read_text(self.reader, canvas, picture.region, self.cfg)
        if picture.codes:
            reading.codes = read_codes(canvas, picture.region, self.onscreen.qr)
        if reading.empty:
            return []
        where = self._where(name, doc, picture.page, [picture.part])
        found = [self._picture_ad(where, reading), self._picture_codes(where, reading),
                 self._picture_traditional(where, reading)]
        for finding in (f for f in found if f is not None):
            self._thumbnail(finding, canvas, [tuple(b) for b in finding.evidence.pop("boxes")])
        return [f for f in found if f is not None]

    def _picture_ad(self, where: dict[str, Any], reading: PictureReading) -> Finding | None:
        if not reading.ads:
            return None
        hits = [hit for hit, _, _ in reading.ads]
        boxes = [box for _, _, box in reading.ads]
        evidence = {**where, "text": "\n".join(dict.fromkeys(text for _, text, _ in reading.ads)),
                    "matches": [{"rule": h.rule, "label": h.label, "text": h.text, "part": where["part"][0]} for h in hits],
                    "box": list(union(boxes)), "boxes": boxes}
        return Finding("doc.ad", self.onscreen.ads.severity, _ad_message(hits, evidence), evidence=evidence)

    def _picture_codes(self, where: dict[str, Any], reading: PictureReading) -> Finding | None:
        if not reading.codes:
            return None
        payloads = [c.payload for c in reading.codes]
        boxes = [c.box for c in reading.codes]
        evidence = {**where, "codes": [{"kind": c.kind, "payload": c.payload, "box": list(c.box)} for c in reading.codes],
                    "text": "\n".join(payloads), "box": list(union(boxes)), "boxes": boxes}
        shown = "；".join(p for p in payloads if p) or "无法解码 / not decodable"
        message = f"文档出现二维码/条形码：{shown} / QR code or barcode in a document ({_place(evidence)})"
        return Finding("doc.qr_code", self.onscreen.qr.severity, message, evidence=evidence)

    def _picture_traditional(self, where: dict[str, Any], reading: PictureReading) -> Finding | None:
        box = traditional_box(reading)
        if box is None:
            return None
        chars = list(dict.fromkeys(c for found in reading.traditional for c in found))
        evidence = {**where, "chars": chars, "simplified": [to_simplified(c) for c in chars],
                    "text": "\n".join(reading.traditional_text), "box": list(box), "boxes": [box]}
        message = f"文档图片出现繁体字/异体字：{''.join(chars)} / traditional characters in a document picture ({_place(evidence)})"
        return Finding("doc.traditional", self.onscreen.traditional.severity, message, evidence=evidence)

    # evidence ---------------------------------------------------------------------------------
    @staticmethod
    def _where(name: str, doc: Document, page: int, parts: list[str]) -> dict[str, Any]:
        return {"file": name, doc.unit: page, "part": parts}

    def _thumbnail(self, finding: Finding, canvas: np.ndarray | None, boxes: list[Box]) -> None:
        if canvas is None or self.thumbnails >= self.cfg.max_thumbnails:
            return
        self.thumbnails += 1
        out = self.workdir / f"{self.prefix}-{self.thumbnails:02d}-{finding.code.replace('.', '_')}.jpg"
        if draw_boxes(canvas, boxes, out, self.cfg.thumbnail_width) is not None:
            finding.evidence["thumbnail"] = str(out)


def _needle(text: str, char: str) -> str:
    """A few characters from `char` on: short enough to sit on one laid-out line."""
    at = text.find(char)
    return text[at:at + 6]


def _also_on(findings: list[Finding], unit: str, page: int) -> None:
    """The same picture again on another page or slide: listed on its findings."""
    for finding in findings:
        if finding.evidence.get(unit) != page and page not in finding.evidence.setdefault(f"also_on_{unit}", []):
            finding.evidence[f"also_on_{unit}"].append(page)


def _place(evidence: dict[str, Any]) -> str:
    unit = "slide" if "slide" in evidence else "page"
    return f"{evidence['file']} 第 {evidence[unit]} {UNIT_LABEL[unit]}"


def _ad_message(hits: list[Hit], evidence: dict[str, Any]) -> str:
    found = "、".join(h.text for h in hits)
    return f"文档出现广告信息：{found} / advertising in a document ({_place(evidence)})"
