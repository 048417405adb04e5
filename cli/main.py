"""`lessonqc` command line: the parser built from the command-group modules, and the one error handler."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from workers import exitcodes

from . import check, farm, fingerprints, index, models, serve, tokens, users, webhooks

# Each module exposes add_parser(subparsers); its parser sets `func(args) -> int` (the exit code).
COMMAND_MODULES = (check, models, farm, index, fingerprints, serve, tokens, users, webhooks)
# A reader closed our stdout (`lessonqc status | head`): end quietly, with the code a shell gives a
# process killed by SIGPIPE (128 + 13), distinct from every verdict and error code.
BROKEN_PIPE = 141


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors exit with USAGE (4), not 2 (which means 'fail')."""

    def error(self, message: str) -> None:
        self.print_usage(sys.stderr)
        self.exit(exitcodes.USAGE, f"{self.prog}: error: {message}\n")


def _one_line_each(prog: str) -> argparse.HelpFormatter:
    """`lessonqc --help` lists every command on one line, whatever the terminal's width."""
    formatter = argparse.HelpFormatter(prog, max_help_position=20, width=120)
    formatter._action_max_length = 18  # argparse leaves the sub-commands' extra indent out: room for `fingerprints`
    return formatter


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="lessonqc", description="Machine pre-screen of lesson videos (基础教育精品课).",
                    formatter_class=_one_line_each)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    return parser


def commands(parser: argparse.ArgumentParser | None = None) -> dict[str, argparse.ArgumentParser]:
    """Every sub-command's name and parser (the docs test checks the commands the docs name)."""
    parser = parser or build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(build_parser().parse_args(argv))
    except KeyboardInterrupt:
        print("lessonqc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _broken_pipe()
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        return _exit_code(exc)


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    code = int(args.func(args) or 0)
    sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
    return code


def _broken_pipe() -> int:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again; exit BROKEN_PIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return BROKEN_PIPE


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

