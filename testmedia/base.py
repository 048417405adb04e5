"""What every generator shares: fonts, the recorded clips in tests/data, the ffmpeg runner."""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"

FONTS = Path("/usr/share/fonts/opentype/noto")
SANS = str(FONTS / "NotoSansCJK-Regular.ttc")
SANS_BOLD = str(FONTS / "NotoSansCJK-Bold.ttc")
SERIF = str(FONTS / "NotoSerifCJK-Regular.ttc")

LESSON_CLIPS = ("zh_lesson_fraction_1.flac", "zh_lesson_fraction_2.flac", "zh_lesson_fraction_3.flac")
PROMO_CLIP = "zh_promo_wechat.flac"


def looped_clips(seconds: float, gap_s: float, clips: tuple[str, ...] | list[str] = LESSON_CLIPS, *,
                 first_input: int = 0, retime: bool = False, label: str = "speech") -> tuple[list[str], str]:
    """ffmpeg inputs and filter graph of a lesson's speech bed: the clips of tests/data with `gap_s`
    pauses, looped to `seconds`, 48 kHz stereo, as [label] (timestamps renumbered with `retime`)."""
    inputs = [arg for clip in clips for arg in ("-i", str(DATA / clip))]
    pads = ";".join(f"[{first_input + i}:a]aresample=48000,apad=pad_dur={gap_s}[c{i}]" for i in range(len(clips)))
    joined = "".join(f"[c{i}]" for i in range(len(clips)))
    graph = (f"{pads};{joined}concat=n={len(clips)}:v=0:a=1,aloop=loop=-1:size=2e9,atrim=0:{seconds},"
             f"{'asetpts=N/SR/TB,' if retime else ''}pan=stereo|c0=c0|c1=c0[{label}]")
    return inputs, graph


def run(cmd: list[str], timeout: float) -> None:
    """Run a generator tool quietly (argv list, no shell); fail loudly with its stderr."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {' '.join(cmd)}\n{proc.stderr}")


def ffmpeg(*args: object, timeout: float = 300) -> None:
    """Run ffmpeg quietly; fail loudly with its stderr."""
    run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)], timeout)


def drawtext(text: str, size: int = 64, x: str = "(w-text_w)/2", y: str = "(h-text_h)/2",
             color: str = "black", enable: str | None = None) -> str:
    """A drawtext filter with the Noto CJK font; `text` is escaped for the filter syntax."""
    safe = text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'").replace("%", "\\%")
    spec = f"drawtext=fontfile={SANS}:text='{safe}':fontsize={size}:fontcolor={color}:x={x}:y={y}"
    return spec + (f":enable='{enable}'" if enable else "")
