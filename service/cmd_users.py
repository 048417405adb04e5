"""`lessonqc users add | list | unlock | passwd | disable | enable`: the console's reviewers, in this index."""
from __future__ import annotations

import argparse

from console import cli
from workers import indexing


def add_parser(sub: argparse._SubParsersAction) -> None:
    cli.add_parser(sub, indexing.database)
