"""`lessonqc serve`, `lessonqc tokens create | revoke | list` and `lessonqc webhooks secret | rotate`."""
from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from index import tokens, webhooks
from workers import exitcodes, indexing, serviceconfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the platform HTTP API (uvicorn)",
                           description="Serve /api/v1, /openapi.json and /healthz. The index is migrated first.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    serve.set_defaults(func=run_serve)
    tok = sub.add_parser("tokens", help="API bearer tokens: create (printed once), revoke, list")
    actions = tok.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a token for NAME and print it (only now)")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--scope", dest="scopes", action="append", choices=tokens.SCOPES, metavar="SCOPE",
                        help=f"what the token may do, repeatable: {', '.join(tokens.SCOPES)} "
                             f"(default: {' '.join(tokens.DEFAULT_SCOPES)})")
    create.add_argument("--region", help="only jobs of this region and below (e.g. 浙江省/杭州市)")
    create.set_defaults(func=run_token_create)
    revoke = actions.add_parser("revoke", help="revoke every live token of NAME")
    revoke.add_argument("name", metavar="NAME")
    revoke.set_defaults(func=run_token_revoke)
    listing = actions.add_parser("list", help="names, creation and revocation times (never the tokens)")
    listing.set_defaults(func=run_token_list)
    hooks = sub.add_parser("webhooks", help="webhook signing secrets of a subscriber (an API token name)")
    hook_actions = hooks.add_subparsers(dest="action", required=True)
    show = hook_actions.add_parser("secret", help="print NAME's live secrets, newest first (making one if none)")
    show.add_argument("name", metavar="NAME")
    show.set_defaults(func=run_webhook_secret)
    rotate = hook_actions.add_parser("rotate", help="make a new secret for NAME; the old one stays valid a while")
    rotate.add_argument("name", metavar="NAME")
    rotate.add_argument("--overlap-hours", type=float, default=None,
                        help="how long the old secret stays valid (default: service.callbacks.secret_overlap_s)")
    rotate.set_defaults(func=run_webhook_rotate)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    indexing.database()  # alembic upgrade head before the first request
    uvicorn.run("service.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level="info", proxy_headers=True)
    return exitcodes.PASS


def run_token_create(args: argparse.Namespace) -> int:
    with indexing.database().session() as session:
        token = tokens.create(session, args.name, args.scopes or tokens.DEFAULT_SCOPES, args.region)
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
            scope = row.scopes + (f" region={row.region}" if row.region else "")
            print(f"{row.name}\tcreated {row.created_at:%Y-%m-%d %H:%M}\t{state}\t{used}\t{scope}")
    return exitcodes.PASS


def run_webhook_secret(args: argparse.Namespace) -> int:
    with indexing.database().session() as session:
        for secret in webhooks.ensure_secret(session, args.name):
            print(secret)
    return exitcodes.PASS


def run_webhook_rotate(args: argparse.Namespace) -> int:
    hours = args.overlap_hours
    overlap = timedelta(hours=hours) if hours is not None else timedelta(
        seconds=serviceconfig.load().callbacks.secret_overlap_s)
    with indexing.database().session() as session:
        secret = webhooks.rotate(session, args.name, overlap)
    print(secret)
    print(f"new secret for '{args.name}'; the previous one signs too for {overlap}", file=sys.stderr)
    return exitcodes.PASS
