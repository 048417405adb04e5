"""Transcript as subtitles: SubRip (.srt) and WebVTT (.vtt)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pipelines.domain import TranscriptSegment


def timestamp(seconds: float, sep: str) -> str:
    """HH:MM:SS<sep>mmm (sep "," for SRT, "." for VTT)."""
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{ms:03d}"


def _cue_text(text: str) -> str:
    """One line per cue; blank lines would end a cue early."""
    return " ".join(text.split()) or "…"


def srt(segments: Sequence[TranscriptSegment]) -> str:
    """The transcript as SubRip text."""
    cues = [f"{i}\n{timestamp(s.start_s, ',')} --> {timestamp(s.end_s, ',')}\n{_cue_text(s.text)}\n"
            for i, s in enumerate(segments, 1)]
    return "\n".join(cues)


def vtt(segments: Sequence[TranscriptSegment]) -> str:
    """The transcript as WebVTT text."""
    cues = [f"{timestamp(s.start_s, '.')} --> {timestamp(s.end_s, '.')}\n{_cue_text(s.text).replace('-->', '->')}\n"
            for s in segments]
    return "WEBVTT\n\n" + "\n".join(cues)


def write(segments: Sequence[TranscriptSegment], folder: Path, stem: str = "transcript") -> dict[str, str]:
    """Write <stem>.srt and <stem>.vtt into `folder` (atomically); artifact name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind, text in (("srt", srt(segments)), ("vtt", vtt(segments))):
        path = folder / f"{stem}.{kind}"
        tmp = path.with_suffix(f".{kind}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        out[f"transcript_{kind}"] = str(path)
    return out
