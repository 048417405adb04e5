"""Short lesson-like clips (lavfi, drawtext, Mandarin speech) for the tech, signal, CLI and farm tests."""
from __future__ import annotations

import random
import struct
import tempfile
from pathlib import Path

from testmedia.base import LESSON_CLIPS, ffmpeg, looped_clips

CBR_5M = ("-c:v", "libx264", "-preset", "ultrafast", "-b:v", "5M", "-minrate", "5M", "-maxrate", "5M",
          "-bufsize", "5M", "-x264-params", "nal-hrd=cbr")
AAC_128K = ("-c:a", "aac", "-b:a", "128k", "-ar", "48000")


def speech_track(out: Path, seconds: float, clips: list[str] | None = None, gap_s: float = 0.6) -> Path:
    """A 48 kHz stereo WAV of `seconds`: the Mandarin lesson clips looped with short pauses."""
    inputs, graph = looped_clips(seconds, gap_s, clips or LESSON_CLIPS, label="out")
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
    track = out.with_suffix(".speech.wav")
    if audio:
        if speech:
            args = ["-i", str(speech_track(track, seconds))]
        graph += f";[0:a]atrim=0:{seconds},asetpts=N/SR/TB{audio_tail and ',' + audio_tail}[a]"
        amap = ["-map", "[a]"] + list(acodec or AAC_128K)
    try:
        ffmpeg(*args, "-filter_complex", graph, "-map", "[v]", *amap, *(vcodec or CBR_5M),
               "-r", str(fps), "-t", str(seconds), *(extra or []), str(out))
    finally:
        track.unlink(missing_ok=True)
    return out


def rotated(out: Path, src: Path) -> Path:
    """A copy of an MP4 with its first track's display matrix set to a quarter turn (a phone held upright)."""
    data = bytearray(src.read_bytes())
    box = data.find(b"tkhd")
    version = data[box + 4]
    # tkhd: version/flags, times and ids, reserved, duration, reserved, layer, group, volume, reserved, matrix
    matrix = box + 4 + 4 + (8 if version == 0 else 16) + 4 + 4 + (4 if version == 0 else 8) + 8 + 8
    data[matrix:matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    out.write_bytes(bytes(data))
    return out


def damaged(out: Path, src: Path, seed: int = 7) -> Path:
    """A copy of `src` with 3000-byte runs of noise every twelfth of the file after its first quarter."""
    data = bytearray(src.read_bytes())
    noise = random.Random(seed)
    for offset in range(len(data) // 4, len(data) - 5000, len(data) // 12):
        data[offset:offset + 3000] = noise.randbytes(3000)
    out.write_bytes(bytes(data))
    return out


def repeated(out: Path, src: Path, times: int) -> Path:
    """`src` played `times` times in a row, by stream copy (a long recording from one encoded block)."""
    with tempfile.TemporaryDirectory(prefix="repeat-") as tmp:
        listing = Path(tmp) / "list.txt"
        listing.write_text("".join(f"file '{src.resolve()}'\n" for _ in range(times)), encoding="utf-8")
        ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out), timeout=1800)
    return out
