"""Terminal progress for long work (only when stderr is a terminal)."""
from __future__ import annotations

import sys
import time


class TerminalProgress:
    """Prints `stage 42% 03:20/07:58` on one line, at most twice a second."""

    def __init__(self, label: str, stream=sys.stderr):
        self.label = label
        self.stream = stream
        self.enabled = stream.isatty()
        self._last = 0.0

    def __call__(self, stage: str, done_s: float, total_s: float) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.5:
            return
        self._last = now
        pct = 100.0 * done_s / total_s if total_s else 0.0
        self.stream.write(f"\r{self.label} [{stage}] {pct:5.1f}% {_mmss(done_s)}/{_mmss(total_s)}  ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()


def _mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"
