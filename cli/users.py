"""`lessonqc users ...`: create reviewers and admins, list, unlock, reset a password, (de)activate."""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Callable

from console import accounts, sessions
from console.levels import LEVELS, normalize_region
from console.settings import load as load_settings
from index.db import Database
from workers import indexing

DatabaseOpener = Callable[[], Database]


def add_parser(sub: argparse._SubParsersAction, open_db: DatabaseOpener = indexing.database) -> None:
    """`users` with its sub-commands; `open_db` gives the index (LESSONQC_DATABASE_URL or the default file)."""
    users = sub.add_parser("users", help="console users: add, list, unlock, passwd, disable, enable")
    cmds = users.add_subparsers(dest="users_command", required=True, parser_class=type(users))
    add = cmds.add_parser("add", help="create a reviewer (password prompted, or read from stdin)")
    add.add_argument("name")
    add.add_argument("--level", required=True, choices=LEVELS)
    add.add_argument("--region", default="", help="region path, e.g. 浙江省/杭州市/西湖区 ('' only for national)")
    add.add_argument("--admin", action="store_true", help="may manage users in the console")
    add.add_argument("--display-name", default=None)
    add.set_defaults(func=lambda a: _add(a, open_db))
    cmds.add_parser("list", help="list users").set_defaults(func=lambda a: _list(open_db))
    for name, helptext in (("unlock", "clear a lockout"), ("passwd", "set a new password (prompted or stdin)"),
                           ("disable", "deactivate and log out everywhere"), ("enable", "reactivate")):
        cmd = cmds.add_parser(name, help=helptext)
        cmd.add_argument("name")
        cmd.set_defaults(func=lambda a, what=name: _change(a, what, open_db))


def read_password(stream=None) -> str:
    """Prompt twice on a terminal; otherwise read one line from stdin (scripts, CI)."""
    stream = stream or sys.stdin
    if stream.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise accounts.UserError("the two passwords differ")
        return first
    return stream.readline().rstrip("\r\n")


def _add(args: argparse.Namespace, open_db: DatabaseOpener) -> int:
    settings = load_settings()
    try:
        if not normalize_region(args.region) and args.level != "national":
            raise accounts.UserError(f"a {args.level} reviewer needs --region (e.g. 浙江省/杭州市/西湖区)")
        new = accounts.NewUser(args.name, args.level, args.region, read_password(), args.admin, args.display_name)
        with open_db().session() as s:
            user = accounts.add_user(s, new, settings)
            admin = " admin" if user.is_admin else ""
            print(f"added {user.name}: {user.level} {user.region or '(all regions)'}{admin}")
    except accounts.UserError as exc:
        print(f"lessonqc users add: {exc}", file=sys.stderr)
        return 4
    return 0


def _list(open_db: DatabaseOpener) -> int:
    with open_db().session() as s:
        for u in accounts.all_users(s):
            flags = ",".join(f for f, on in (("admin", u.is_admin), ("disabled", not u.active),
                                             ("locked", u.locked_until and accounts.is_locked(u, accounts.utcnow())))
                             if on)
            print(f"{u.name}\t{u.level}\t{u.region or '-'}\t{flags or '-'}")
    return 0


def _change(args: argparse.Namespace, what: str, open_db: DatabaseOpener) -> int:
    settings = load_settings()
    try:
        with open_db().session() as s:
            user = accounts.find(s, args.name)
            if user is None:
                raise accounts.UserError(f"no user {args.name!r}")
            if what == "unlock":
                accounts.unlock(user)
            elif what == "passwd":
                accounts.set_password(user, read_password(), settings)
                sessions.end_all(s, user)
            else:
                user.active = what == "enable"
                if not user.active:
                    sessions.end_all(s, user)
    except accounts.UserError as exc:
        print(f"lessonqc users {what}: {exc}", file=sys.stderr)
        return 4
    print(f"{what}: {args.name}")
    return 0
