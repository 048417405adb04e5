"""`lessonqc reindex`: rebuild the durable index from the report store (idempotent)."""
from __future__ import annotations

import argparse
from pathlib import Path

from workers import exitcodes, indexing


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reindex", help="(re)index every published report of the report store",
                       description="Upsert every report.json under LESSONQC_REPORT_DIR into the index "
                                   "(LESSONQC_DATABASE_URL, or index.sqlite3 in the report store). Safe to repeat.")
    p.add_argument("--reports", type=Path, default=None, help="report store folder (default LESSONQC_REPORT_DIR)")
    p.set_defaults(func=run_reindex)


def run_reindex(args: argparse.Namespace) -> int:
    count = indexing.reindex(args.reports.resolve() if args.reports else None)
    print(f"indexed {count} report(s)")
    return exitcodes.PASS
