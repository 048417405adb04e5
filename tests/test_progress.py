"""Terminal progress: percentages during the decode, stage names after it, nothing when not a terminal."""
from __future__ import annotations

import io

from cli.progress import TerminalProgress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal():
    out = FakeTerminal()
    progress = TerminalProgress("lesson.mp4", out)
    progress("decode", 450.0, 900.0)
    progress("speech", 0.0, 0.0)
    progress.close()
    text = out.getvalue()
    assert "lesson.mp4 [decode]  50.0% 07:30/15:00" in text
    assert "[speech] running" in text


def test_no_progress_when_not_a_terminal():
    out = io.StringIO()
    TerminalProgress("lesson.mp4", out)("decode", 1.0, 2.0)
    assert out.getvalue() == ""
