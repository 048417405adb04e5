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
        """Show progress; total_s 0 announces a stage whose length is not known."""
        now = time.monotonic()
        if not self.enabled or (total_s and now - self._last < 0.5):
            return
        self._last = now
        if total_s:
            line = f"{self.label} [{stage}] {100.0 * done_s / total_s:5.1f}% {_mmss(done_s)}/{_mmss(total_s)}"
        else:
            line = f"{self.label} [{stage}] running ..."
        self.stream.write(f"\r{line:<72}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()


def _mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"
