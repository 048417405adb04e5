"""Keep the dramatiq CLI of `lessonqc worker` running: start it again when a worker process died."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any


def supervise(argv: list[str], env: dict[str, str], quick_s: float = 10.0, quick_limit: int = 5) -> int:
    """Run `argv`; when it exits non-zero on its own, start it again.

    dramatiq stops every sibling process (gracefully: they finish what they hold) when one
    worker process dies, e.g. a native crash or an OOM kill in a stage; the node comes back
    here, and the message that killed it is counted (workers.actors.counted) until it ends
    as a stage error. Signals are passed on; a node that keeps dying at start-up gives up.
    """
    child: subprocess.Popen | None = None
    stopping = False

    def forward(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    quick = 0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv, env=env)
        code = child.wait()
        if stopping or code == 0:
            return code
        quick = quick + 1 if time.monotonic() - started < quick_s else 0
        if quick >= quick_limit:
            print(f"lessonqc worker: dramatiq keeps exiting at start-up (code {code}); giving up", file=sys.stderr)
            return code
        print(f"lessonqc worker: dramatiq exited with code {code} (a worker process died); starting it again",
              file=sys.stderr, flush=True)
        time.sleep(1.0)
