"""The open catalogue nodes (config/catalogue.yaml, or the real catalogue file it or LESSONQC_CATALOGUE
names) and `selection.node_unknown` for a declared node outside them."""
from __future__ import annotations

import csv
import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from config import CONFIG_DIR
from pipelines.domain import Finding
from pipelines.errors import ProfileError
from pipelines.settings.files import read_settings

from .metadata import NODE_NAMES, NODE_PARTS, Node

CATALOGUE_CONFIG = CONFIG_DIR / "catalogue.yaml"
CATALOGUE_ENV = "LESSONQC_CATALOGUE"
WHAT = "catalogue"
SHOWN_CHOICES = 12     # how many of the known names an evidence lists


def key(text: str) -> str:
    """A node name as compared: NFKC (full/half width), without spaces."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def node_key(node: Node) -> str:
    """The node as one comparable string (the index's same-node key)."""
    return "/".join(key(p) for p in node.parts())


@dataclass(frozen=True)
class Unknown:
    """The first part of a node the catalogue does not have, and what it has there instead."""

    part: str                  # stage | subject | edition | volume | unit | lesson
    value: str
    known: tuple[str, ...]     # the names the catalogue has at that place (display form)


class Catalogue:
    """Open nodes as a tree of names (display form kept, compared by `key`)."""

    def __init__(self, source: str, paths: list[tuple[str, ...]]):
        self.source = source
        self.children: dict[tuple[str, ...], dict[str, str]] = {}   # prefix keys -> {child key: display name}
        for path in paths:
            for depth in range(len(NODE_PARTS)):
                prefix = tuple(key(p) for p in path[:depth])
                self.children.setdefault(prefix, {}).setdefault(key(path[depth]), path[depth])

    def __len__(self) -> int:
        return sum(len(v) for k, v in self.children.items() if len(k) == len(NODE_PARTS) - 1)

    def unknown(self, node: Node) -> Unknown | None:
        """None when the node is open, else its first unknown part."""
        keys = tuple(key(p) for p in node.parts())
        for depth, part in enumerate(NODE_PARTS):
            known = self.children.get(keys[:depth], {})
            if keys[depth] not in known:
                return Unknown(part, node.parts()[depth], tuple(sorted(known.values()))[:SHOWN_CHOICES])
        return None


def finding(node: Node, catalogue: Catalogue, severity: str) -> Finding | None:
    """selection.node_unknown naming the unknown part (None: the node is open)."""
    gap = catalogue.unknown(node)
    if gap is None:
        return None
    name = NODE_NAMES[gap.part]
    evidence = {"node": node.to_dict(), "node_part": gap.part, "part_name": name, "declared": gap.value,
                "choices": list(gap.known), "catalogue": catalogue.source}
    message = (f"目录节点不在开放目录中：{name}“{gap.value}”未找到（{node.path()}）"
               f" / catalogue node not open: unknown {gap.part} {gap.value!r}")
    return Finding("selection.node_unknown", severity, message, None, None, evidence)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def load() -> Catalogue:
    """The catalogue in force: LESSONQC_CATALOGUE's file, else config `file`, else the sample `nodes`."""
    data = read_settings(CATALOGUE_CONFIG, WHAT)
    named = os.environ.get(CATALOGUE_ENV, "").strip() or str(data.get("file") or "").strip()
    if not named:
        return Catalogue(str(CATALOGUE_CONFIG.name), list(_tree_paths(data.get("nodes") or {}, str(CATALOGUE_CONFIG))))
    path = Path(named) if Path(named).is_absolute() else CONFIG_DIR / named
    return Catalogue(path.name, read_file(path))


def read_file(path: Path) -> list[tuple[str, ...]]:
    """A catalogue file's nodes: CSV (header 学段,学科,教材版本,册次,单元,课) or YAML (`nodes:` tree)."""
    if path.suffix.lower() == ".csv":
        return _csv_paths(path)
    return list(_tree_paths(read_settings(path, WHAT).get("nodes") or {}, str(path)))


def _csv_paths(path: Path) -> list[tuple[str, ...]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ProfileError(f"{path}: cannot read the catalogue ({type(exc).__name__})") from None
    header = [h.strip() for h in rows[0]] if rows else []
    if header != list(NODE_NAMES.values()):
        raise ProfileError(f"{path}: the catalogue's header must be {','.join(NODE_NAMES.values())}")
    out = []
    for n, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) != len(NODE_PARTS) or not all(cells):
            raise ProfileError(f"{path}: line {n}: six non-empty cells expected")
        out.append(tuple(cells))
    return out


def _tree_paths(tree: Any, source: str, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """学段 → 学科 → 教材版本 → 册次 → 单元 mappings ending in a list of 课."""
    depth = len(prefix)
    if depth == len(NODE_PARTS) - 1:
        if not isinstance(tree, list):
            raise ProfileError(f"{source}: {'/'.join(prefix)}: a list of lessons (课) expected")
        yield from (prefix + (str(lesson),) for lesson in tree)
        return
    if not isinstance(tree, dict):
        raise ProfileError(f"{source}: {'/'.join(prefix) or 'nodes'}: a mapping of {NODE_NAMES[NODE_PARTS[depth]]} expected")
    for name, below in tree.items():
        yield from _tree_paths(below, source, prefix + (str(name),))
