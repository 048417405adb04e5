"""Findings of the on-screen stage, each with its evidence (text, box, thumbnail, stable key)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.ocr.lines import OcrLine, union
from pipelines.onscreen.frame_text import Reading
from pipelines.onscreen.evidence import draw_boxes
from pipelines.domain import Finding
from pipelines.onscreen.scenes import Scene
from pipelines.ocr.engine import Box
from pipelines.onscreen.ad_rules import Rule, find_ads
from pipelines.onscreen.titlecard import TitleCard
from pipelines.onscreen.traditional import to_simplified
from pipelines.onscreen.watermark import Mark


class FindingMaker:
    """Builds findings and writes their thumbnails into `workdir` (at most `max_thumbnails`)."""

    def __init__(self, cfg: Any, workdir: Path, rules: tuple[Rule, ...] = ()):
        self.cfg = cfg
        self.workdir = workdir
        self.rules = rules
        self.thumbnails = 0

    def for_scene(self, scene: Scene, reading: Reading, shape: tuple[int, int]) -> list[Finding]:
        """text.ad, text.qr_code and text.traditional for one scene, without thumbnails yet:
        `evidence["boxes"]` holds what `thumbnail` will draw."""
        made = [self._ad(scene, reading), self._citation(scene, reading), self._codes(scene, reading, shape),
                self._traditional(scene, reading)]
        return [f for f in made if f is not None]

    def has_room(self) -> bool:
        """Whether another thumbnail fits the budget (its picture need not be fetched otherwise)."""
        return self.thumbnails < self.cfg.max_thumbnails

    def thumbnail(self, finding: Finding, gray: np.ndarray) -> None:
        """Draw `evidence["boxes"]` on `gray` and attach the picture (within the thumbnail budget)."""
        self._attach(finding, gray, [tuple(b) for b in finding.evidence.get("boxes", [])])

    def _ad(self, scene: Scene, reading: Reading) -> Finding | None:
        if not reading.ads:
            return None
        lines = sorted({hit.line for hit in reading.ads})
        boxes = [reading.lines[i].box for i in lines]
        found = "、".join(_labelled(hit.label.split(" / ")[0], hit.text) for hit in reading.ads)
        evidence = {"key": "|".join(sorted({hit.text for hit in reading.ads})),
                    "text": "\n".join(reading.lines[i].text for i in lines),
                    "matches": [{"rule": h.rule, "label": h.label, "text": h.text} for h in reading.ads],
                    "box": list(union(boxes))}
        message = f"画面出现广告信息：{found} / on-screen advertising"
        return self._finding("text.ad", self.cfg.ads.severity, message, scene, evidence, boxes)

    def _citation(self, scene: Scene, reading: Reading) -> Finding | None:
        """text.citation: an official source cited on screen (SPEC: info, the citation as evidence)."""
        if not reading.citations:
            return None
        lines = sorted({hit.line for hit in reading.citations})
        boxes = [reading.lines[i].box for i in lines]
        text = "\n".join(reading.lines[i].text for i in lines)
        evidence = {"key": "|".join(sorted({hit.text for hit in reading.citations})), "text": text,
                    "sources": sorted({hit.text for hit in reading.citations}), "box": list(union(boxes))}
        message = f"画面引用资料来源：{text.splitlines()[0]} / citation of an official source"
        return self._finding("text.citation", self.cfg.citations.severity, message, scene, evidence, boxes)

    def _codes(self, scene: Scene, reading: Reading, shape: tuple[int, int]) -> Finding | None:
        if not reading.codes:
            return None
        payloads = [c.payload for c in reading.codes]
        boxes = [c.box for c in reading.codes]
        shown = "；".join(p for p in payloads if p) or "无法解码 / not decodable"
        evidence = {"key": "|".join(sorted(p or _grid_key(c.box, shape) for p, c in zip(payloads, reading.codes))),
                    "codes": [{"kind": c.kind, "payload": c.payload, "box": list(c.box)} for c in reading.codes],
                    "text": "\n".join(payloads), "box": list(union(boxes))}
        message = f"画面出现二维码/条形码：{shown} / QR code or barcode on screen"
        return self._finding("text.qr_code", self.cfg.qr.severity, message, scene, evidence, boxes)

    def _traditional(self, scene: Scene, reading: Reading) -> Finding | None:
        found = reading.traditional
        if found is None:
            return None
        chars = "".join(found.chars)
        evidence = {"key": chars, "chars": list(found.chars), "simplified": [to_simplified(c) for c in found.chars],
                    "text": found.text, "box": list(found.box),
                    "glyphs": {"traditional": found.traditional, "with_two_forms": found.candidates}}
        message = f"画面出现繁体字/异体字：{chars} / traditional characters on screen"
        return self._finding("text.traditional", self.cfg.traditional.severity, message, scene, evidence, [found.box])

    def watermark(self, mark: Mark, lines: list[OcrLine], gray: np.ndarray | None, span: tuple[float, float]) -> Finding:
        """text.watermark over `span` (the stretch of video analysed). A mark naming a recorder or
        platform, or matching an advertising rule, is `severity`; any other persistent element
        (a logo, a template footer) is `other_severity`, for the reviewer to judge."""
        cfg = self.cfg.watermark
        text = "\n".join(line.text for line in lines)
        known = self.known_mark(text)
        shape = gray.shape if gray is not None else (1080, 1920)
        evidence = {"key": _grid_key(mark.box, shape), "box": list(mark.box), "text": text,
                    "present_share": round(mark.share, 3), "known": known}
        shown = f"：{text}" if text else ""
        message = f"画面有持续水印/标识{shown} / persistent watermark or logo"
        severity = cfg.severity if known else cfg.other_severity
        finding = Finding("text.watermark", severity, message, span[0], span[1], evidence)
        self._attach(finding, gray, [mark.box])
        return finding

    def known_mark(self, text: str) -> str:
        """The recorder/platform word or advertising match in a mark's text ("" when none)."""
        return _known_mark(text, self.cfg.watermark.words, self.rules)

    def title_card(self, card: TitleCard, text: str, gray: np.ndarray | None, span: tuple[float, float]) -> Finding | None:
        """intro.title_card when the card is missing, too short or lacks fields."""
        cfg = self.cfg.title_card
        too_short = card.text_s < cfg.min_text_s
        if not card.missing and not too_short:
            return None
        evidence = {"key": "title_card", "missing": list(card.missing), "present": list(card.present),
                    "text": text, "text_s": round(card.text_s, 2), "window_s": cfg.window_s}
        finding = Finding("intro.title_card", cfg.severity, _title_message(card, too_short, cfg.window_s),
                          span[0], span[1], evidence)
        self._attach(finding, gray, [])
        return finding

    def _finding(self, code: str, severity: str, message: str, scene: Scene, evidence: dict[str, Any],
                 boxes: list[Box]) -> Finding:
        evidence.update(frame_s=round(scene.time_s, 2), boxes=[list(b) for b in boxes])
        return Finding(code, severity, message, round(scene.start_s, 3), round(scene.end_s, 3), evidence)

    def _attach(self, finding: Finding, gray: np.ndarray | None, boxes: list[Box]) -> None:
        if gray is None or not self.has_room():
            return
        name = f"onscreen-{finding.code.replace('.', '_')}-{finding.start_s or 0:08.2f}.jpg"
        out = draw_boxes(gray, boxes, self.workdir / name, self.cfg.thumbnail_width)
        if out is not None:
            finding.evidence["thumbnail"] = str(out)
            self.thumbnails += 1


def _title_message(card: TitleCard, too_short: bool, window_s: float) -> str:
    if not card.present:
        return f"未检测到片头字幕（前 {window_s:g} 秒）/ no title card in the first {window_s:g} s"
    parts = []
    if card.missing:
        parts.append(f"片头缺少：{'、'.join(card.missing)} / title card lacks {len(card.missing)} field(s)")
    if too_short:
        parts.append(f"片头文字仅显示 {card.text_s:.1f} 秒 / title text shown only {card.text_s:.1f} s")
    return "；".join(parts)


def _known_mark(text: str, words: list[str], rules: tuple[Rule, ...]) -> str:
    """The recorder/platform word or advertising match in a mark's text ("" when none)."""
    flat = re.sub(r"\s+", "", text).lower()
    word = next((w for w in words if w.lower() in flat), "")
    return word or next((hit.text for hit in find_ads([text], rules)), "")


def _grid_key(box: Box, shape: tuple[int, ...]) -> str:
    """A box on a coarse grid (1/32 of the frame): stable across segment seams."""
    h, w = shape[:2]
    return "@" + ",".join(str(int(v * 32 / s)) for v, s in zip(box, (w, h, w, h)))


def _labelled(label: str, text: str) -> str:
    """'网址 www.x.com', but just '公众号' when the match is the label itself."""
    return text if text == label else f"{label} {text}"
