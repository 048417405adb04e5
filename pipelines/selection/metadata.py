"""A submission's lesson metadata, typed: the title-card fields and the catalogue node.

The node is (学段, 学科, 教材版本, 册次, 单元, 课) (SPEC "Cross-lesson checks"). Every text is checked
here once (length, no control characters), for the API, the CLI and the farm alike.
"""
from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from pipelines.errors import LessonQCError

NODE_PARTS = ("stage", "subject", "edition", "volume", "unit", "lesson")
NODE_NAMES = {"stage": "学段", "subject": "学科", "edition": "教材版本", "volume": "册次", "unit": "单元", "lesson": "课"}
LESSON_TEXTS = ("teacher", "school", "subject", "grade", "title", "category")
FIELD_NAMES = {"teacher": "主讲教师", "school": "学校", "subject": "学科", "grade": "年级", "title": "课名",
               "category": "类别"}
MAX_CHARS = {"teacher": 200, "school": 200, "subject": 100, "grade": 100, "title": 500, "category": 100}
NODE_MAX_CHARS = 100
NODE_SEPARATOR = "/"


class MetadataInvalid(LessonQCError, ValueError):
    """A metadata value is too long, holds control characters, or a node lacks a part."""


def checked_text(name: str, value: Any, max_chars: int) -> str | None:
    """`value` stripped (None when empty); MetadataInvalid when not text, too long or with control characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MetadataInvalid(f"{name}: must be text")
    value = value.strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in value):
        raise MetadataInvalid(f"{name}: control characters are not allowed")
    if len(value) > max_chars:
        raise MetadataInvalid(f"{name}: at most {max_chars} characters")
    return value or None


@dataclass(frozen=True)
class Node:
    """A catalogue node: every part is set."""

    stage: str
    subject: str
    edition: str
    volume: str
    unit: str
    lesson: str

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Node:
        unknown = set(doc) - set(NODE_PARTS)
        if unknown:
            raise MetadataInvalid(f"node: unknown part {sorted(unknown)[0]!r} (parts: {', '.join(NODE_PARTS)})")
        values = {p: checked_text(f"node.{p}", doc.get(p), NODE_MAX_CHARS) for p in NODE_PARTS}
        missing = [p for p, v in values.items() if not v]
        if missing:
            raise MetadataInvalid(f"node.{missing[0]}: required ({NODE_NAMES[missing[0]]}); a node names all of "
                                  f"{'/'.join(NODE_NAMES.values())}")
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def parse(cls, text: str) -> Node:
        """`学段/学科/教材版本/册次/单元/课` (six parts separated by `/`)."""
        parts = [p.strip() for p in text.split(NODE_SEPARATOR)]
        if len(parts) != len(NODE_PARTS):
            raise MetadataInvalid(f"node: {len(parts)} parts given, six expected: {'/'.join(NODE_NAMES.values())}")
        return cls.from_dict(dict(zip(NODE_PARTS, parts)))

    def parts(self) -> tuple[str, ...]:
        return tuple(getattr(self, p) for p in NODE_PARTS)

    def path(self) -> str:
        return NODE_SEPARATOR.join(self.parts())

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class LessonMeta:
    """What the platform says about the lesson (every field optional)."""

    teacher: str | None = None
    school: str | None = None
    subject: str | None = None
    grade: str | None = None
    title: str | None = None      # 课名
    category: str | None = None   # 学科课程 / 实验教学 / ...
    node: Node | None = None

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | None) -> LessonMeta:
        """The metadata of a JSON mapping (the API's `lesson`, a --meta file); MetadataInvalid when wrong."""
        doc = dict(doc or {})
        unknown = set(doc) - {f.name for f in fields(cls)}
        if unknown:
            raise MetadataInvalid(f"unknown metadata field {sorted(unknown)[0]!r}")
        node = doc.get("node")
        if node is not None and not isinstance(node, (Mapping, str)):
            raise MetadataInvalid("node: a mapping of its six parts, or 学段/学科/教材版本/册次/单元/课")
        parsed = (Node.parse(node) if isinstance(node, str) else Node.from_dict(node)) if node else None
        return cls(**{k: checked_text(k, doc.get(k), MAX_CHARS[k]) for k in LESSON_TEXTS}, node=parsed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe; unset fields left out."""
        out: dict[str, Any] = {k: getattr(self, k) for k in LESSON_TEXTS if getattr(self, k) is not None}
        if self.node is not None:
            out["node"] = self.node.to_dict()
        return out

    def is_empty(self) -> bool:
        return not self.to_dict()
