"""`lessonqc` command line: one sub-command per module (check, models, submit/status/report/worker)."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Each module exposes add_parser(subparsers); its parser sets `func(args) -> int` (the exit code).
COMMAND_MODULES = ["workers.cmd_check", "workers.cmd_models", "workers.cmd_farm"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lessonqc", description="Machine pre-screen of lesson videos (基础教育精品课).")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
