"""Helpers for the HTTP API tests: the real app on a real socket (uvicorn in a thread), an
isolated service environment, and a local callback receiver (127.0.0.1) that records signed POSTs."""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

SECRET = "test-callback-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerThread:
    """`service.app` served by uvicorn on 127.0.0.1:<free port>, in this process (it reads this test's env)."""

    def __init__(self) -> None:
        from service.app import create_app, server_options

        self.port = free_port()
        config = uvicorn.Config(create_app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off",
                                **server_options())
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                pytest.fail("uvicorn did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Received:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class CallbackReceiver:
    """A local HTTP server that records each POST; on /hook it answers the first `fail_first` with 500,
    then 204; on /down always 500 (a platform that never comes back)."""

    fail_first: int = 0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append(Received(self.path, body, {k.lower(): v for k, v in self.headers.items()}))
                down = self.path == "/down" or len(outer.on("/hook")) <= outer.fail_first
                self.send_response(500 if down else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return self.url_for("/hook")

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def service_env(monkeypatch: pytest.MonkeyPatch, root: Path, database_url: str, **config: Any) -> dict[str, str]:
    """Environment of an isolated service: media root, report store, index URL, callback allow-list and secret;
    `config` overrides service.yaml keys under `service:` (written to a YAML overlay)."""
    import yaml

    from workers import serviceconfig

    media, reports = root / "media", root / "reports"
    media.mkdir(parents=True, exist_ok=True)
    reports.mkdir(parents=True, exist_ok=True)
    overlay = root / "service.yaml"
    overlay.write_text(yaml.safe_dump({"service": config}), encoding="utf-8")
    env = {"LESSONQC_MEDIA_ROOTS": str(media), "LESSONQC_REPORT_DIR": str(reports),
           "LESSONQC_DATABASE_URL": database_url, "LESSONQC_CALLBACK_HOSTS": "127.0.0.1",
           "LESSONQC_CALLBACK_SECRET": SECRET, "LESSONQC_SERVICE_CONFIG": str(overlay)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    serviceconfig.load.cache_clear()
    return env


def make_token(name: str = "platform") -> str:
    from index import tokens
    from workers import indexing

    with indexing.database().session() as session:
        return tokens.create(session, name)


def client(base_url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)
