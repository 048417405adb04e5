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


def clip(out: Path, seconds: float = 8.0, size: str = "640x360", fps: int = 25, *,
         vcodec: list[str] | None = None, acodec: list[str] | None = None, audio: bool = True,
         still_between: tuple[float, float] | None = None, black_between: tuple[float, float] | None = None,
         video_tail: str = "", audio_tail: str = "", speech: bool = True, extra: list[str] | None = None) -> Path:
    """A short lesson-like clip: light slide background, a moving square, Mandarin speech.

    still_between freezes all motion (a frozen picture); black_between blacks the picture;
    video_tail/audio_tail append filters (e.g. letterbox padding, gain) to each chain.
    """
    w, h = (int(v) for v in size.split("x"))
    move = "mod(t*90,W-w)"
    if still_between:
        a, b = still_between
        move = f"if(between(t,{a},{b}),mod({a}*90,W-w),{move})"
    vgraph = (f"color=c=0xf3f0e6:s={size}:r={fps}:d={seconds}[bg];color=c=0xc0392b:s={w // 8}x{w // 8}:r={fps}[sq];"
              f"[bg][sq]overlay=x='{move}':y=H/3:shortest=1,format=yuv420p")
    if black_between:
        vgraph += f",drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='between(t,{black_between[0]},{black_between[1]})'"
    vgraph += (video_tail and "," + video_tail) + "[v]"
    args = ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]
    graph, amap = vgraph, []
    if audio:
        source = speech_track(out.with_suffix(".speech.wav"), seconds) if speech else None
        if source:
            args = ["-i", str(source)]
        graph += f";[0:a]atrim=0:{seconds},asetpts=N/SR/TB{audio_tail and ',' + audio_tail}[a]"
        amap = ["-map", "[a]"] + (acodec or ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"])
    ffmpeg(*args, "-filter_complex", graph, "-map", "[v]", *amap,
           *(vcodec or ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "5M", "-minrate", "5M", "-maxrate", "5M",
                        "-bufsize", "5M", "-x264-params", "nal-hrd=cbr"]),
           "-r", str(fps), "-t", str(seconds), *(extra or []), str(out))
    out.with_suffix(".speech.wav").unlink(missing_ok=True)
    return out


def rotate_display(src: Path, dest: Path) -> Path:
    """Copy an MP4 with its first track's display matrix set to a quarter turn (a phone held upright)."""
    import struct

    data = bytearray(src.read_bytes())
    box = data.find(b"tkhd")
    version = data[box + 4]
    # tkhd: version/flags, times and ids, reserved, duration, reserved, layer, group, volume, reserved, matrix
    matrix = box + 4 + 4 + (8 if version == 0 else 16) + 4 + 4 + (4 if version == 0 else 8) + 8 + 8
    data[matrix:matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    dest.write_bytes(bytes(data))
    return dest
