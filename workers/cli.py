"""`lessonqc` command line: one sub-command per module (check, models, submit/status/report/worker)."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from . import exitcodes

# Each module exposes add_parser(subparsers); its parser sets `func(args) -> int` (the exit code).
# `service.commands` (serve, tokens) is loaded by name: the HTTP service sits above workers/.
COMMAND_MODULES = ["workers.cmd_check", "workers.cmd_models", "workers.cmd_farm", "workers.cmd_index",
                   "service.commands", "service.cmd_users"]


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors exit with USAGE (4), not 2 (which means 'fail')."""

    def error(self, message: str) -> None:
        self.print_usage(sys.stderr)
        self.exit(exitcodes.USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="lessonqc", description="Machine pre-screen of lesson videos (基础教育精品课).")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
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
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("lessonqc: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        return _exit_code(exc)


def _exit_code(exc: Exception) -> int:
    """One line on stderr and the documented exit code; the traceback only with -v, for faults."""
    code = exitcodes.for_error(exc)
    if code is None:
        logging.getLogger("lessonqc").debug("internal error", exc_info=True)
        print(f"lessonqc: internal error: {exc!r} (run with -v for details)", file=sys.stderr)
        return exitcodes.INTERNAL
    logging.getLogger("lessonqc").debug("error", exc_info=True)
    print(f"lessonqc: {exc}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
