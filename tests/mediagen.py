"""Real test media, generated with ffmpeg (lavfi, drawtext with Noto CJK), cached per session.

Every generator takes the output path first and returns it; nothing here is mocked.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def ffmpeg(*args: str, timeout: float = 300) -> None:
    """Run ffmpeg quietly; fail loudly with its stderr."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr}")


def drawtext(text: str, size: int = 64, x: str = "(w-text_w)/2", y: str = "(h-text_h)/2",
             color: str = "black", enable: str | None = None) -> str:
    """A drawtext filter with the Noto CJK font; `text` is escaped for the filter syntax."""
    safe = text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'").replace("%", "\\%")
    spec = f"drawtext=fontfile={CJK_FONT}:text='{safe}':fontsize={size}:fontcolor={color}:x={x}:y={y}"
    return spec + (f":enable='{enable}'" if enable else "")


def speech_track(out: Path, seconds: float, clips: list[str] | None = None, gap_s: float = 0.6) -> Path:
    """A 48 kHz stereo WAV of `seconds`: the Mandarin lesson clips looped with short pauses."""
    clips = clips or ["zh_lesson_fraction_1.flac", "zh_lesson_fraction_2.flac", "zh_lesson_fraction_3.flac"]
    inputs: list[str] = []
    for clip in clips:
        inputs += ["-i", str(DATA / clip)]
    pads = ";".join(f"[{i}:a]aresample=48000,apad=pad_dur={gap_s}[c{i}]" for i in range(len(clips)))
    joined = "".join(f"[c{i}]" for i in range(len(clips)))
    graph = f"{pads};{joined}concat=n={len(clips)}:v=0:a=1,aloop=loop=-1:size=2e9,atrim=0:{seconds},pan=stereo|c0=c0|c1=c0[out]"
    ffmpeg(*inputs, "-filter_complex", graph, "-map", "[out]", "-ar", "48000", str(out))
    return out
