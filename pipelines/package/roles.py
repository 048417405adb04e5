"""Which part of the package each file is: by its name first, then by its content.

The words live in config (`package.roles`); only the category's own parts are candidates,
so a 教学设计 in a 实验教学 package is its 实验教学设计 and a 作业 in an 人工智能教育 package its 实践作业.
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from pipelines.package.documents.model import Document

EXEC_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


class Category:
    """One category's parts and how each is told (from `package.categories` and `package.roles`)."""

    def __init__(self, name: str, cfg: Any):
        spec = cfg.categories[name]
        roles = cfg.roles
        self.name = name
        self.video: str = spec.video
        self.required: list[str] = list(spec.required)
        self.parts: list[str] = self.required + [p for p in spec.optional if p not in self.required]
        self.documents = [p for p in self.parts if p != self.video]
        self.names = {p: [w.lower() for w in roles[p].names] for p in self.parts}
        self.headings = {p: list(roles[p].headings) for p in self.documents}
        self.slides = [p for p in self.documents if roles[p].slides]
        self.min_headings = cfg.min_headings
        self.heading_chars = cfg.heading_chars


def by_name(name: str, candidates: list[str], category: Category) -> str | None:
    """The part whose longest name word appears in the file name (folders count too)."""
    flat = re.sub(r"\s+", "", name).lower()
    words = sorted(((w, part) for part in candidates for w in category.names[part]), key=lambda wp: -len(wp[0]))
    return next((part for word, part in words if word in flat), None)


def by_content(doc: Document, category: Category) -> str | None:
    """The document part with the most headings found (at least `min_headings`), else a slide deck's part."""
    text = re.sub(r"\s+", "", doc.text(category.heading_chars))
    scores = {part: sum(1 for h in heads if h in text) for part, heads in category.headings.items()}
    best = max(scores, key=scores.__getitem__, default=None)
    if best is not None and scores[best] >= category.min_headings:
        return best
    if category.slides and (doc.unit == "slide" or doc.landscape):
        return category.slides[0]
    return None


def document_role(name: str, doc: Document, category: Category) -> str | None:
    """A document's part: its file name decides; else its content; None when neither tells."""
    path = PurePosixPath(name)
    return by_name(path.stem, category.documents, category) \
        or by_name(str(path.parent), category.documents, category) or by_content(doc, category)


def is_executable(path_suffix: str, head: bytes, cfg: Any) -> bool:
    """An executable or script: by suffix, or by its first bytes (PE, ELF, Mach-O, #!)."""
    return path_suffix in cfg.executable_suffixes or head.startswith(EXEC_MAGIC)


def is_ignored(name: str, cfg: Any) -> bool:
    """System clutter a zip tool adds (__MACOSX, .DS_Store, Thumbs.db) and Office lock files (~$x.docx)."""
    parts = PurePosixPath(name).parts
    return any(p in cfg.ignored_names for p in parts) or parts[-1].startswith(("~$", "._"))
