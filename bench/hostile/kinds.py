"""Hostile and odd inputs, each made on demand under a media root (ffmpeg, a few seconds each).

Every maker takes (root, outside) and returns the path to submit. `outside` is a folder
beyond the media root holding `secret.ts`, a real video nothing may read.
"""
from __future__ import annotations

import os
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

Maker = Callable[[Path, Path], Path]
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "128k"]


def ffmpeg(*args: object) -> None:
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)


def lavfi_video(size: str = "320x180", rate: int = 25, seconds: float = 4.0) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d={seconds}"]


def gray_video(size: str, rate: int, seconds: float) -> list[str]:
    """A flat gray picture (extreme sizes and rates encode in no time)."""
    return ["-f", "lavfi", "-i", f"color=c=gray:s={size}:r={rate}:d={seconds}"]


def tone(seconds: float = 4.0, freq: int = 440) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=f={freq}:d={seconds}:sample_rate=48000"]


def encoded(file_name: str, *args: object) -> Maker:
    """A kind that is one ffmpeg run writing `file_name` under the root."""
    def make(root: Path, outside: Path) -> Path:
        out = root / file_name
        ffmpeg(*args, out)
        return out
    return make


def claiming(seconds: float, make: Maker) -> Maker:
    """The kind `make` builds, its MP4 header patched to promise `seconds`."""
    return lambda root, outside: _claim_duration(make(root, outside), seconds)


def renamed(file_name: str, make: Maker) -> Maker:
    """The kind `make` builds, then renamed to `file_name` (a name ffmpeg itself would misread)."""
    def rename(root: Path, outside: Path) -> Path:
        out = root / file_name
        make(root, outside).rename(out)
        return out
    return rename


def written(file_name: str, content: str | bytes) -> Maker:
    """A kind that is a file of fixed text or bytes under the root."""
    def make(root: Path, outside: Path) -> Path:
        out = root / file_name
        out.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return out
    return make


def secret(outside: Path) -> Path:
    path = outside / "secret.ts"
    if not path.exists():
        ffmpeg(*lavfi_video(seconds=3), *X264, path)
    return path


clean = encoded("clean.mp4", *lavfi_video(), *tone(), *X264, *AAC, "-shortest")


def hls_named_mp4(root: Path, outside: Path) -> Path:
    out = root / "hls-playlist.mp4"
    out.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\n{secret(outside)}\n#EXT-X-ENDLIST\n")
    return out


def concat_list(root: Path, outside: Path) -> Path:
    out = root / "concat-list.mp4"
    out.write_text(f"ffconcat version 1.0\nfile '{secret(outside)}'\n")
    return out


def _claim_duration(path: Path, seconds: float) -> Path:
    """Patch mvhd/tkhd/mdhd (version 0) so the header promises `seconds`."""
    data = bytearray(path.read_bytes())
    movie_scale = _patch_box(data, b"mvhd", 12, 16, seconds, None)
    _patch_box(data, b"tkhd", None, 20, seconds, movie_scale)
    _patch_box(data, b"mdhd", 12, 16, seconds, None)
    path.write_bytes(bytes(data))
    return path


def _patch_box(data: bytearray, name: bytes, scale_at: int | None, duration_at: int, seconds: float,
               scale: int | None) -> int:
    box = data.find(name)
    body = box + 4
    scale = scale or struct.unpack(">I", data[body + scale_at:body + scale_at + 4])[0]
    data[body + duration_at:body + duration_at + 4] = struct.pack(">I", int(seconds * scale) & 0xFFFFFFFF)
    return scale


def cover_art_mkv(root: Path, outside: Path) -> Path:
    """An MKV whose first video stream is a one-frame MJPEG cover (no attached_pic flag), then the lesson."""
    cover, body = outside / "cover.jpg", outside / "body.mkv"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=320x320", "-frames:v", "1", cover)
    ffmpeg(*lavfi_video(), *tone(), *X264, *AAC, body)
    out = root / "cover-art-first.mkv"
    ffmpeg("-i", cover, "-i", body, "-map", "0:v", "-map", "1:v", "-map", "1:a", "-c", "copy", out)
    return out


def cover_art_only(root: Path, outside: Path) -> Path:
    cover = outside / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=320x320", "-frames:v", "1", cover)
    out = root / "audio-with-cover.mp4"
    ffmpeg(*tone(), "-i", cover, "-map", "0:a", "-map", "1:v", *AAC, "-c:v", "png", "-disposition:v", "attached_pic", out)
    return out


def truncated_moov_at_end(root: Path, outside: Path) -> Path:
    src = clean(root, outside)
    out = root / "truncated-moov.mp4"
    out.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    return out


def truncated_faststart(root: Path, outside: Path) -> Path:
    full = outside / "faststart.mp4"
    ffmpeg(*lavfi_video(seconds=12), *tone(12), *X264, *AAC, "-movflags", "+faststart", full)
    out = root / "truncated-faststart.mp4"
    out.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.4)])
    return out


def random_bytes(root: Path, outside: Path) -> Path:
    out = root / "noise.mp4"
    out.write_bytes(os.urandom(200_000))
    return out


def symlink_out_of_root(root: Path, outside: Path) -> Path:
    out = root / "escape.mp4"
    out.unlink(missing_ok=True)
    out.symlink_to(secret(outside))
    return out


def directory(root: Path, outside: Path) -> Path:
    out = root / "folder.mp4"
    out.mkdir(exist_ok=True)
    return out


def fifo(root: Path, outside: Path) -> Path:
    out = root / "pipe.mp4"
    if not out.exists():
        os.mkfifo(out)
    return out


TWENTY_TONES = [a for i in range(20) for a in tone(1, 200 + 20 * i)]
TWENTY_MAPS = [a for i in range(20) for a in ("-map", f"{i + 1}:a")]
SDP = "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"

KINDS: dict[str, Maker] = {
    "clean": clean,
    "hls_named_mp4": hls_named_mp4,
    "concat_list": concat_list,
    "sdp_network": written("stream.mp4", SDP),
    "one_px_wide": encoded("one-px-wide.mkv", *lavfi_video("64x360"), "-vf", "scale=1:360", "-c:v", "ffv1"),
    "two_px_video": encoded("two-by-two.mp4", *gray_video("2x2", 25, 3), *X264),
    # 8K x 240 fps: each limit alone is met; the header claims 4 hours (the work budget is not)
    "header_8k_240fps_4h": claiming(4 * 3600 - 60, encoded("8k-240fps.mp4", *gray_video("7680x4320", 240, 0.05), *X264)),
    "header_5h": claiming(5 * 3600, encoded("five-hours.mp4", *lavfi_video(seconds=2), *X264)),
    "huge_fps": encoded("1000fps.mkv", *gray_video("160x90", 1000, 0.2), *X264),
    "huge_dimensions": encoded("8192x64.mp4", *gray_video("8192x64", 25, 0.2), *X264),
    "many_streams": encoded("twenty-audio-streams.mkv", *lavfi_video("160x90", seconds=1), *TWENTY_TONES,
                            "-map", "0:v", *TWENTY_MAPS, *X264, *AAC),
    "extra_audio_streams": encoded("two-audio-streams.mp4", *lavfi_video(), *tone(), *tone(4, 220),
                                   "-map", "0:v", "-map", "1:a", "-map", "2:a", *X264, *AAC),
    "cover_art_mkv": cover_art_mkv,
    "cover_art_only": cover_art_only,
    "no_duration_webm": encoded("recorder.webm", *lavfi_video(), *tone(), "-c:v", "libvpx", "-deadline", "realtime",
                                "-cpu-used", "8", "-c:a", "libopus", "-f", "webm", "-live", "1"),
    "video_shorter_than_audio": encoded("picture-stops.mp4", *lavfi_video(seconds=3), *tone(9), *X264, *AAC),
    "vfr": encoded("vfr.mkv", *lavfi_video(rate=30, seconds=6), "-vf", "setpts='if(lt(N,60),N/30,2+(N-60)/10)/TB'",
                   "-fps_mode", "vfr", *X264),
    "rotated_phone": encoded("phone-upright.mp4", *lavfi_video("640x360"), *tone(), *X264, *AAC, "-shortest",
                             "-metadata:s:v", "rotate=90"),
    "truncated_moov_at_end": truncated_moov_at_end,
    "truncated_faststart": truncated_faststart,
    "zero_byte": written("empty.mp4", b""),
    "text_file": written("notes.mp4", "这不是视频，只是文本。\n" * 50),
    "random_bytes": random_bytes,
    "audio_only": encoded("audio-only.mp4", *tone(), *AAC),
    "still_image": encoded("slide.mp4", "-f", "lavfi", "-i", "testsrc2=s=640x360", "-frames:v", "1", "-f", "image2",
                           "-c:v", "png"),
    "symlink_out_of_root": symlink_out_of_root,
    "directory": directory,
    "fifo": fifo,
    "odd_file_name": renamed("concat:课程 'a'|b\t<x>.mp4",
                             encoded("odd-src.mp4", *lavfi_video(), *tone(), *X264, *AAC, "-shortest")),
    "pattern_file_name": renamed("img%03d.mp4", encoded("pattern-src.mp4", *lavfi_video(seconds=2), *X264)),
}
