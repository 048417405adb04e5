"""`lessonqc fingerprints import VIDEO...`: earlier years' lessons into the index, to be matched against;
`lessonqc fingerprints rekey`: fingerprints kept under an older keys' form indexed anew."""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from pipelines import profile as profiles
from pipelines.errors import LessonQCError
from pipelines.originality.cross import fingerprint_file

from workers import indexing, originality, paths


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fingerprints", help="the originality index: import earlier lessons' fingerprints",
                       description="Fingerprints of lessons for the cross-lesson originality check.")
    group = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = group.add_parser("import", help="fingerprint archived lesson videos and add them to the index",
                           description="Fingerprint each video (picture and sound) and add it to the index as an "
                                       "archived lesson that new lessons are matched against.")
    imp.add_argument("videos", nargs="+", type=Path, metavar="VIDEO")
    imp.add_argument("--index", metavar="URL|FILE",
                     help="the index (a database URL or a SQLite file); default: the farm's index")
    imp.add_argument("--title", help="课名 (with one VIDEO)")
    imp.add_argument("--teacher", help="主讲教师")
    imp.add_argument("--school", help="学校")
    imp.add_argument("--region", help="region path, e.g. 浙江省/杭州市/西湖区")
    imp.add_argument("--year", type=int, help="the year the lesson was submitted")
    imp.add_argument("--job-id", help="its job id (with one VIDEO); default: archive- and a digest of its path")
    imp.set_defaults(func=run_import)
    rekey = group.add_parser("rekey", help="index fingerprints kept under an older keys' form (after an upgrade)",
                             description="Derive the index keys of every fingerprint stored before the keys' form "
                                         "changed (the sweeper does this a share per pass).")
    rekey.add_argument("--index", metavar="URL|FILE",
                       help="the index (a database URL or a SQLite file); default: the farm's index")
    rekey.set_defaults(func=run_rekey)


def run_rekey(args: argparse.Namespace) -> int:
    done = originality.rekey(originality.open_at(args.index) if args.index else indexing.database())
    print(f"{done} fingerprints indexed anew")
    return 0


def run_import(args: argparse.Namespace) -> int:
    if len(args.videos) > 1 and (args.title or args.job_id):
        raise LessonQCError("--title and --job-id name one lesson: give one VIDEO with them")
    database = originality.database_at(args.index) if args.index else indexing.database()
    profile = profiles.load("micro-primary")
    lesson = {"title": args.title, "teacher": args.teacher, "school": args.school}
    for video in args.videos:
        job_id = args.job_id or "archive-" + hashlib.sha256(str(video.resolve()).encode()).hexdigest()[:16]
        mine = fingerprint_file(video, profile, tuple(paths.media_roots()))
        originality.import_archive(database, job_id, str(video), {**lesson, "title": args.title or video.stem},
                                   args.region, args.year, mine)
        print(f"{job_id}  {video}  {len(mine.picture)} frames, {len(mine.sound)} sound values")
    return 0
