"""Thumbnails at finding times: one fast seek + one decoded frame each, scaled down."""
from __future__ import annotations

import logging
from pathlib import Path

from pipelines import tools
from pipelines.errors import LessonQCError
from pipelines.media.decode import SAME_ZERO
from pipelines.domain import Finding

log = logging.getLogger(__name__)


def grab(path: Path, time_s: float, out: Path, width: int = 320, video_stream: int | None = None) -> Path | None:
    """Write a JPEG of the frame at `time_s`; None when it cannot be had."""
    args = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{max(0.0, time_s):.3f}", *SAME_ZERO,
            "-i", str(path), "-map", "0:v:0" if video_stream is None else f"0:{video_stream}", "-frames:v", "1",
            "-vf", f"scale={width}:-2", "-q:v", "4", str(out)]
    try:
        tools.run("ffmpeg", args, timeout=60)
    except LessonQCError as exc:
        log.warning("thumbnail at %.1fs failed: %s", time_s, exc)
        return None
    return out if out.is_file() and out.stat().st_size > 0 else None


def add_missing(findings: list[Finding], path: Path, workdir: Path, limit: int, width: int,
                video_stream: int | None = None) -> int:
    """Give timed findings without a thumbnail one (at most `limit` grabs); return how many were made."""
    made = 0
    for i, f in enumerate(findings):
        if made >= limit or f.start_s is None or f.evidence.get("thumbnail"):
            continue
        end = f.end_s if f.end_s is not None else f.start_s
        at = f.start_s + min(1.0, (end - f.start_s) / 2)
        out = grab(path, at, workdir / f"finding-{i:03d}-{f.code.replace('.', '_')}.jpg", width, video_stream)
        if out:
            f.evidence["thumbnail"] = str(out)
            made += 1
    return made
