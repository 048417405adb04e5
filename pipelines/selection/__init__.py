"""Selection rules on one lesson's report (no database): the declared catalogue node against the open
catalogue (`selection.node_unknown`) and the title card against the metadata (`intro.metadata_mismatch`).

`selection.same_node` needs the other lessons' decisions: it lives in index/selection.py.

    metadata   LessonMeta / Node: the submission's typed metadata, checked once
    catalogue  the open nodes (config/catalogue.yaml or the real file) and node_unknown
    normalise  text as compared (width, script, spaces, aliases)
    mismatch   the title card's fields against the metadata
"""
from __future__ import annotations

from typing import Any

from pipelines.domain import Finding

from . import catalogue, config, mismatch
from .metadata import LessonMeta

__all__ = ["LessonMeta", "check"]


def check(meta: LessonMeta, metrics: dict[str, Any]) -> list[Finding]:
    """node_unknown and metadata_mismatch of a lesson (`metrics`: the report's, with the on-screen stage's
    title-card reading). A lesson without a node is not checked against the catalogue."""
    cfg = config.load()
    out = mismatch.findings((metrics.get("onscreen") or {}).get("title_card"), meta, cfg)
    if meta.node is not None:
        unknown = catalogue.finding(meta.node, catalogue.load(), cfg.severity.node_unknown)
        out += [unknown] if unknown else []
    return out
