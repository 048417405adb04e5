"""The user-space slow lossy link (tests/slowlink.py) that the hosts tier uses where the kernel has no netem:
bytes arrive one delay later each way, in order, and a lost segment costs a retransmission timeout."""
from __future__ import annotations

import random
import socket
import subprocess
import sys
import threading
import time

from tests.farmkit import REPO
from tests.slowlink import Link


def test_a_lost_segment_costs_a_retransmission_timeout_and_nothing_overtakes():
    never, always = Link(0.1, 0.0, 0.0, random.Random(1)), Link(0.1, 0.0, 1.0, random.Random(1))
    assert never.arrival(100, 10.0, 0.0) == 10.1
    assert always.arrival(100, 10.0, 0.0) == 10.1 + always.rto_s
    assert always.arrival(3000, 10.0, 0.0) == 10.1 + 3 * always.rto_s  # three segments, each lost once
    assert never.arrival(100, 10.0, 99.0) == 99.0  # sent later, never delivered before what was sent first


def _echo_server() -> socket.socket:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)
    threading.Thread(target=serve, daemon=True).start()
    return server


def _round_trip(port: int, payload: bytes) -> float:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        started = time.monotonic()
        conn.sendall(payload)
        got = b""
        while len(got) < len(payload):
            got += conn.recv(65536)
        assert got == payload
        return time.monotonic() - started


def _relay(target: int, *options: str) -> tuple[subprocess.Popen, int]:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "tests.slowlink", *options, f"{port}:127.0.0.1:{target}"],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert "relaying" in proc.stdout.readline()
    return proc, port


def test_the_relay_delays_each_direction_and_stalls_on_loss():
    server = _echo_server()
    target = server.getsockname()[1]
    clean, clean_port = _relay(target, "--delay-ms", "100")
    lossy, lossy_port = _relay(target, "--delay-ms", "100", "--loss-pct", "100")
    try:
        assert 0.19 < _round_trip(clean_port, b"PING") < 0.6  # 100 ms each way
        assert _round_trip(clean_port, bytes(range(256)) * 400) < 1.0  # 100 KB, in order
        assert 0.99 < _round_trip(lossy_port, b"PING") < 2.0  # each way 0.1 s + one timeout of 0.4 s
    finally:
        for proc in (clean, lossy):
            proc.terminate()
            proc.wait(5)
        server.close()
