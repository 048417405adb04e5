"""`lessonqc webhooks secret | rotate`: a subscriber's webhook signing secrets, in the index."""
from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from index import webhooks
from workers import exitcodes, indexing, serviceconfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    hooks = sub.add_parser("webhooks", help="webhook signing secrets of a subscriber (an API token name)")
    actions = hooks.add_subparsers(dest="action", required=True)
    show = actions.add_parser("secret", help="print NAME's live secrets, newest first (making one if none)")
    show.add_argument("name", metavar="NAME")
    show.set_defaults(func=run_secret)
    rotate = actions.add_parser("rotate", help="make a new secret for NAME; the old one stays valid a while")
    rotate.add_argument("name", metavar="NAME")
    rotate.add_argument("--overlap-hours", type=float, default=None,
                        help="how long the old secret stays valid (default: service.callbacks.secret_overlap_s)")
    rotate.set_defaults(func=run_rotate)


def run_secret(args: argparse.Namespace) -> int:
    with indexing.database().session() as session:
        for secret in webhooks.ensure_secret(session, args.name):
            print(secret)
    return exitcodes.PASS


def run_rotate(args: argparse.Namespace) -> int:
    hours = args.overlap_hours
    overlap = timedelta(hours=hours) if hours is not None else timedelta(
        seconds=serviceconfig.load().callbacks.secret_overlap_s)
    with indexing.database().session() as session:
        secret = webhooks.rotate(session, args.name, overlap)
    print(secret)
    print(f"new secret for '{args.name}'; the previous one signs too for {overlap}", file=sys.stderr)
    return exitcodes.PASS
