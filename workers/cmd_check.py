"""`lessonqc check VIDEO...`: the embedded pre-screen, no broker needed."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from pipelines import profile as profiles
from pipelines.check import check, preflight
from pipelines.errors import LessonQCError
from pipelines.package.check import category_of, check_package
from pipelines.report.page import clock
from pipelines.domain import Finding
from pipelines.report.document import Report, to_dict

from . import exitcodes, paths
from .progress import TerminalProgress

log = logging.getLogger(__name__)
SEVERITY_ORDER = {"error": 3, "fail": 2, "review": 1, "pass": 0}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="pre-screen videos or submission packages on this machine (no broker)",
                       description="Pre-screen lesson videos (or submission packages: a folder or .zip with "
                                   "--category) and write report.json + report.html.")
    p.add_argument("videos", nargs="+", type=Path, metavar="VIDEO|PACKAGE")
    p.add_argument("--category", metavar="CATEGORY",
                   help="check submission packages (folder or .zip) of this category: "
                        "学科课程, 特殊教育, 实验教学, 人工智能教育, 阅读课")
    p.add_argument("--profile", default="micro-primary",
                   help=f"built-in profile ({', '.join(profiles.available())}) or a YAML file path")
    p.add_argument("--foreign-language", metavar="LANG", action="append", default=[],
                   help="allow this spoken/written language too (foreign-language course), e.g. en")
    p.add_argument("--out", type=Path, default=Path("lessonqc-out"), help="report folder (one sub-folder per video when several)")
    p.add_argument("--json", action="store_true", help="print the report JSON on stdout instead of the summary")
    p.add_argument("--skip-stage", metavar="STAGE", action="append", default=[],
                   help="do not run this optional stage (speech, onscreen, lab); it is reported as skipped")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    skip = frozenset(args.skip_stage)
    try:
        profile = profiles.load(args.profile, args.foreign_language)
        preflight(profile, skip)
        _check_usage(args, profile)
    except LessonQCError as exc:
        print(f"lessonqc: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    verdicts = [_check_one(video, profile, _out_dir(args, video), args.json, skip, args.category) for video in args.videos]
    return exitcodes.BY_VERDICT[max(verdicts, key=SEVERITY_ORDER.__getitem__)]


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
               category: str | None = None) -> str:
    progress = TerminalProgress(video.name)
    started = time.monotonic()
    try:
        if category is not None:
            report = check_package(video, category, profile, out, progress=progress, skip=skip)
        else:
            report = check(video, profile, out, progress=progress, skip=skip, roots=tuple(paths.media_roots()))
    finally:
        progress.close()
    if as_json:
        print(json.dumps(to_dict(report), ensure_ascii=False, indent=2))
    else:
        print_summary(report, out, time.monotonic() - started)
    return report.verdict


def print_summary(report: Report, out: Path, seconds: float) -> None:
    """A readable terminal summary: verdict, each finding with its time, where the report is."""
    print(f"{report.source}  ->  {report.verdict.upper()}  (profile {report.profile}, {seconds:.1f} s)")
    for f in report.sorted_findings():
        when = _where(f)
        print(f"  {f.severity:<7} {f.code:<22} {when:<13} {f.message}")
    failed = [f"{n}: {s.error}" for n, s in report.stages.items() if s.status == "error" and s.error != "input unreadable"]
    for line in failed:
        print(f"  stage error  {line}")
    print(f"  report: {out / 'report.html'}")


def _where(f: Finding) -> str:
    """A finding's time range, or its file and page/slide (documents)."""
    if f.start_s is not None:
        return f"{clock(f.start_s)}-{clock(f.end_s if f.end_s is not None else f.start_s)}"
    place = str(f.evidence.get("file", ""))
    unit = next((u for u in ("page", "slide") if u in f.evidence), None)
    return f"{place} {unit[0]}.{f.evidence[unit]}" if unit else place
