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
