"""What `lessonqc check` and the farm commands share: job options and the terminal summary."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pipelines import profile as profiles
from pipelines.errors import LessonQCError
from pipelines.selection.metadata import LessonMeta, MetadataInvalid
from pipelines.report.page import clock


def add_job_options(p: argparse.ArgumentParser, profile_source: str = "a YAML file path") -> None:
    """--profile, --foreign-language, --skip-stage, --category: how one input is checked, wherever it runs."""
    p.add_argument("--profile", default="micro-primary",
                   help=f"built-in profile ({', '.join(profiles.available())}) or {profile_source}")
    p.add_argument("--foreign-language", metavar="LANG", action="append", default=[],
                   help="allow this spoken/written language too (foreign-language course), e.g. en")
    p.add_argument("--skip-stage", metavar="STAGE", action="append", default=[],
                   help="do not run this optional stage (speech, onscreen, lab); it is reported as skipped")
    p.add_argument("--category", metavar="CATEGORY",
                   help="the inputs are submission packages (folder or .zip) of this category: "
                        "学科课程, 特殊教育, 实验教学, 人工智能教育, 阅读课")


def add_lesson_options(p: argparse.ArgumentParser) -> None:
    """--meta FILE.json and --node: the submission's metadata (the title card is compared with it, the node
    with the open catalogue)."""
    p.add_argument("--meta", type=Path, metavar="FILE.json",
                   help="the lesson's metadata: a JSON object with teacher, school, subject, grade, title, category "
                        "and node {stage, subject, edition, volume, unit, lesson} (all optional)")
    p.add_argument("--node", metavar="学段/学科/教材版本/册次/单元/课",
                   help="the lesson's catalogue node (overrides the node of --meta)")


def lesson_of(args: argparse.Namespace) -> LessonMeta | None:
    """The metadata --meta and --node give (None: neither); LessonQCError naming what is wrong."""
    if args.meta is None and args.node is None:
        return None
    doc: dict[str, Any] = {}
    if args.meta is not None:
        try:
            doc = json.loads(args.meta.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LessonQCError(f"--meta {args.meta}: cannot read a JSON object ({type(exc).__name__})") from None
        if not isinstance(doc, dict):
            raise LessonQCError(f"--meta {args.meta}: a JSON object expected")
    if args.node is not None:
        doc["node"] = args.node
    try:
        return LessonMeta.from_dict(doc)
    except MetadataInvalid as exc:
        raise LessonQCError(f"lesson metadata: {exc}") from None


def print_summary(doc: dict[str, Any], note: str, html: Path) -> str:
    """A readable summary of a report.json document: verdict, findings with their time, the page; its verdict."""
    print(f"{doc['source']}  ->  {doc['verdict'].upper()}  (profile {doc['profile']}, {note})")
    for f in doc["findings"]:  # report.json lists them worst first
        print(f"  {f['severity']:<7} {f['code']:<22} {_where(f):<13} {f['message']}")
    for name, stage in doc["stages"].items():
        if stage["status"] == "error" and stage.get("error") != "input unreadable":
            print(f"  stage error  {name}: {stage['error']}")
    print(f"  report: {html}")
    return doc["verdict"]


def _where(f: dict[str, Any]) -> str:
    """A finding's time range, or its file and page/slide (documents of a package)."""
    if f["start_s"] is not None:
        return f"{clock(f['start_s'])}-{clock(f['end_s'] if f['end_s'] is not None else f['start_s'])}"
    evidence = f.get("evidence") or {}
    place = str(evidence.get("file", ""))
    unit = next((u for u in ("page", "slide") if u in evidence), None)
    return f"{place} {unit[0]}.{evidence[unit]}" if unit else place
