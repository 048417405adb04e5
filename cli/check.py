"""`lessonqc check VIDEO...`: the embedded pre-screen, no broker needed."""
from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from index.db import Database
from pipelines import profile as profiles
from pipelines.check import check, preflight
from pipelines.errors import LessonQCError
from pipelines.package.check import category_of, check_package
from pipelines.report.document import to_dict
from pipelines.selection.metadata import LessonMeta

from workers import exitcodes, originality, paths

from .common import add_job_options, add_lesson_options, lesson_of, print_summary
from .progress import TerminalProgress

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="pre-screen videos or submission packages on this machine (no broker)",
                       description="Pre-screen lesson videos (or submission packages: a folder or .zip with "
                                   "--category) and write report.json + report.html.")
    p.add_argument("videos", nargs="+", type=Path, metavar="VIDEO|PACKAGE")
    add_job_options(p)
    add_lesson_options(p)
    p.add_argument("--out", type=Path, default=Path("lessonqc-out"), help="report folder (one sub-folder per video when several)")
    p.add_argument("--json", action="store_true", help="print the report JSON on stdout instead of the summary")
    p.add_argument("--index", metavar="URL|FILE",
                   help="match each video against the lessons of this index (a database URL or a SQLite file) "
                        "and add it there (originality)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    skip = frozenset(args.skip_stage)
    profile = profiles.load(args.profile, args.foreign_language)
    preflight(profile, skip)  # a missing tool or model: exit 4 before any video (cli/main.py)
    _check_usage(args, profile)
    lesson = lesson_of(args)
    index = originality.database_at(args.index) if args.index else None
    verdicts = [_check_one(video, profile, _out_dir(args, video), args.json, skip, args.category, index, lesson)
                for video in args.videos]
    return exitcodes.for_verdicts(verdicts)


def _check_usage(args: argparse.Namespace, profile: profiles.Profile) -> None:
    """A package needs its category; a known one."""
    if args.category is not None:
        category_of(args.category, profile)
        return
    packages = [str(p) for p in args.videos if p.is_dir() or p.suffix.lower() == ".zip"]
    if packages:
        raise LessonQCError(f"{packages[0]} is a submission package: pass --category "
                            f"({', '.join(profile.package.categories)})")


def _out_dir(args: argparse.Namespace, video: Path) -> Path:
    if len(args.videos) == 1:
        return args.out
    index = args.videos.index(video)
    return args.out / f"{index + 1:02d}-{video.stem or 'video'}"


def _check_one(video: Path, profile: profiles.Profile, out: Path, as_json: bool, skip: frozenset[str],
               category: str | None = None, index: Database | None = None, lesson: LessonMeta | None = None) -> str:
    progress = TerminalProgress(video.name)
    started = time.monotonic()
    try:
        if category is not None:
            report = check_package(video, category, profile, out, progress=progress, skip=skip, lesson=lesson)
        else:
            report = check(video, profile, out, progress=progress, skip=skip, roots=tuple(paths.media_roots()),
                           index=originality.IndexLessons(lambda: index) if index is not None else None, lesson=lesson)
    finally:
        progress.close()
    doc = to_dict(report)
    if index is not None and category is None:
        originality.index_checked(index, doc, out)
    if as_json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        print_summary(doc, f"{time.monotonic() - started:.1f} s", out / "report.html")
    return report.verdict
