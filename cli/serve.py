"""`lessonqc serve`: the platform HTTP API and the reviewer console (uvicorn)."""
from __future__ import annotations

import argparse

from workers import exitcodes, indexing


def add_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the platform HTTP API (uvicorn)",
                           description="Serve /api/v1, /openapi.json and /healthz. The index is migrated first.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    serve.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import server_options

    indexing.database()  # alembic upgrade head before the first request
    uvicorn.run("service.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level="info", **server_options())
    return exitcodes.PASS
