"""`lessonqc tokens create | revoke | list`: the API's bearer tokens, in the index."""
from __future__ import annotations

import argparse
import sys

from index import tokens
from workers import exitcodes, indexing


def add_parser(sub: argparse._SubParsersAction) -> None:
    tok = sub.add_parser("tokens", help="API bearer tokens: create (printed once), revoke, list")
    actions = tok.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a token for NAME and print it (only now)")
    create.add_argument("name", metavar="NAME")
    create.set_defaults(func=run_token_create)
    revoke = actions.add_parser("revoke", help="revoke every live token of NAME")
    revoke.add_argument("name", metavar="NAME")
    revoke.set_defaults(func=run_token_revoke)
    listing = actions.add_parser("list", help="names, creation and revocation times (never the tokens)")
    listing.set_defaults(func=run_token_list)


def run_token_create(args: argparse.Namespace) -> int:
    with indexing.database().session() as session:
        token = tokens.create(session, args.name)
    print(token)
    print(f"token for '{args.name}': shown once, stored only as its sha256", file=sys.stderr)
    return exitcodes.PASS


def run_token_revoke(args: argparse.Namespace) -> int:
    with indexing.database().session() as session:
        count = tokens.revoke(session, args.name)
    if not count:
        print(f"lessonqc: no live token named '{args.name}'", file=sys.stderr)
        return exitcodes.USAGE
    print(f"revoked {count} token(s) of '{args.name}'")
    return exitcodes.PASS


def run_token_list(args: argparse.Namespace) -> int:
    with indexing.database().session() as session:
        for row in tokens.all_tokens(session):
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "live"
            used = f"last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never used"
            print(f"{row.name}\tcreated {row.created_at:%Y-%m-%d %H:%M}\t{state}\t{used}")
    return exitcodes.PASS
