"""Chromaprint values of a WAV through fpcalc (Debian's libchromaprint-tools), via the tool gateway.

fpcalc -raw prints one unsigned 32-bit value per 4096/3 samples at 11025 Hz (about 0.124 s).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines import tools
from pipelines.errors import ToolError
from pipelines.media import source as sources

STEP_S = 4096 / 3 / 11025  # seconds between consecutive Chromaprint values


def chromaprint(wav: Path, timeout_s: float) -> np.ndarray:
    """The raw Chromaprint of the whole file (uint32); empty for a file too short to have one."""
    with sources.opened(wav) as held:  # like every tool, it reads an opened file
        result = tools.run("fpcalc", ["-raw", "-length", "0", str(held)], timeout=timeout_s, check=False)
    values = parse_raw(result.stdout.decode("ascii", "replace"))  # fpcalc 1.5 exits 3 at a WAV's end
    if values is None and result.returncode != 0:
        raise ToolError(f"fpcalc exited with {result.returncode}", ["fpcalc", str(wav)], result.stderr,
                        result.returncode)
    return np.zeros(0, np.uint32) if values is None else values


def parse_raw(text: str) -> np.ndarray | None:
    """The values of fpcalc's `-raw` output (None when it printed no FINGERPRINT line)."""
    for line in text.splitlines():
        if line.startswith("FINGERPRINT="):
            body = line.split("=", 1)[1].strip()
            return np.array([int(v) for v in body.split(",") if v], np.uint32) if body else np.zeros(0, np.uint32)
    return None
