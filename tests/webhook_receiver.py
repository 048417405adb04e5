"""The webhook receiver host of the multi-host tests: `python -m tests.webhook_receiver HOST PORT LOG`.

Answers every POST with 204 and appends one JSON line to LOG: the event id, the event, the
job and the decision it is about. The event id is the `webhook-id` header (Standard Webhooks:
the same on every retry); a sender without that header gets one built from the body, which
names the event uniquely (a report is published once per job; a decision has its own id).
"""
from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def event_id(headers: dict[str, str], body: dict[str, Any]) -> str:
    if headers.get("webhook-id"):
        return headers["webhook-id"]
    decision = body.get("decision") or {}
    return ":".join(str(part) for part in (body.get("event"), body.get("job_id"), decision.get("id")) if part)


def serve(host: str, port: int, log: Path) -> None:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            line = {"id": event_id(headers, body), "event": body.get("event"), "job_id": body.get("job_id"),
                    "decision": (body.get("decision") or {}).get("id"), "at": time.time(),
                    "stamp": headers.get("webhook-timestamp")}
            with lock, log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    ThreadingHTTPServer((host, port), Handler).serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
