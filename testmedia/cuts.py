"""A video that cuts every second (memory bounds on long videos): a new picture each second.

320x180 at a low frame rate with a silent mono AAC track. A fixed random block pattern holds
one grey block that moves on by one place each second (384 places, so a picture comes back
only after 384 s, beyond the on-screen repeat window: every second is a scene that wants
reading), under a top band of fresh random blocks every second (live video to the scene
tracker, a candidate cut to the lab stage). Drawn at block size by lavfi `geq`, then enlarged:
four hours are made in about a minute.
"""
from __future__ import annotations

from pathlib import Path

from testmedia.base import ffmpeg

GRID = (32, 18)     # blocks across and down; each block is 10x10 pixels
LIVE_ROWS = 6       # the top rows change every second
PLACES = GRID[0] * (GRID[1] - LIVE_ROWS)  # where the moving block can be: the period in seconds


def _noise(seed: str) -> str:
    """Black or white per block, from the block's position and `seed` (a shader-style hash)."""
    return f"255*gt(mod(abs(sin(X*12.9898+Y*78.233+{seed}*37.719))*43758.5453\\,1)\\,0.5)"


def source(seconds: int, fps: int = 2) -> str:
    """The lavfi graph: one picture per second (N counts seconds), drawn at block size then enlarged."""
    marker = f"eq(X+{GRID[0]}*(Y-{LIVE_ROWS})\\,mod(N\\,{PLACES}))"
    lum = f"if(lt(Y\\,{LIVE_ROWS})\\,{_noise('N')}\\,if({marker}\\,128\\,{_noise('0')}))"
    return (f"nullsrc=s={GRID[0]}x{GRID[1]}:r=1:d={seconds},geq=lum='{lum}':cb=128:cr=128,"
            f"scale={GRID[0] * 10}:{GRID[1] * 10}:flags=neighbor,fps={fps}")


def cuts_every_second(out: Path, seconds: int, fps: int = 2) -> None:
    """Write the video of `seconds` to `out` (x264 ultrafast, silent mono AAC)."""
    ffmpeg("-f", "lavfi", "-i", source(seconds, fps), "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono",
           "-t", seconds, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "32k", "-shortest", "-f", "mp4", out, timeout=1800)
