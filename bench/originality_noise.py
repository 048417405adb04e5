"""How the issue's transformations move the prints: the measured noise the lookup bench's model follows.

A 60 s source (panned 1/f-texture shots, then template slides with text; recorded Mandarin
speech of tests/data under it) at 1280x720 8 Mbps is transformed with ffmpeg: re-encoded at 1
and 8 Mbps, scaled to 1080p, cropped 10 %, letterboxed, brightness +-20 %, mirrored, started
0.3 s late (another sampling phase: a cut), sound at another level, and sound "re-recorded"
(band-limited, echo, room noise, other level). For each: picture hashes' Hamming distance to the
source's at the same instant (the mirrored source hash for the mirror), the share of 21-bit and
16-bit bands equal, and the share of Chromaprint values equal (exact, top 28 and 24 bits) at the
best alignment. Usage: python -m bench.originality_noise [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from pipelines import profile as profiles
from pipelines.originality.cross import fingerprint_file
from pipelines.originality.prints import Prints
from testmedia.base import ffmpeg, looped_clips
from testmedia.originality import footage, template_slides

W, H = 1280, 720
VARIANTS: dict[str, tuple[str, str, list[str]]] = {  # name: (video filter, audio filter, encoder options)
    "reencode_1M": ("", "", ["-b:v", "1M", "-maxrate", "1M", "-bufsize", "1M", "-b:a", "64k"]),
    "reencode_8M": ("", "", ["-b:v", "8M", "-b:a", "128k"]),
    "scale_1080p": ("scale=1920:1080", "", ["-b:v", "4M"]),
    "crop_10": ("crop=iw*0.9:ih*0.9,scale=1280:720", "", ["-b:v", "2M"]),
    "letterbox": ("scale=1280:540,pad=1280:720:0:90", "", ["-b:v", "2M"]),
    "bright_+20": ("lutyuv=y='clip(val*1.2,16,235)'", "", ["-b:v", "2M"]),
    "bright_-20": ("lutyuv=y='val*0.8'", "", ["-b:v", "2M"]),
    "mirror": ("hflip", "", ["-b:v", "2M"]),
    "shift_0.3s": ("", "", ["-b:v", "2M"]),
    "sound_level_-8dB": ("", "volume=0.4", ["-b:v", "2M"]),
    "rerecorded": ("", "highpass=f=150,lowpass=f=4000,aecho=0.8:0.6:35|70:0.35|0.2,volume=0.5", ["-b:v", "2M",
                                                                                                "-b:a", "64k"]),
}


def source(folder: Path) -> Path:
    moving = footage(folder / "moving.mp4", 11, 30.0, (W, H))
    slides = template_slides(folder / "slides.mp4", tuple(f"第{i}课 分数的意义\n例题 {i * 7} / {i + 3}" for i in range(6)),
                             5.0, 12, (W, H))
    inputs, graph = looped_clips(60.0, 0.4, label="a")
    out = folder / "source.mp4"
    ffmpeg("-i", moving, "-i", slides, *inputs,
           "-filter_complex", _shifted(graph, 2) + ";[0:v][1:v]concat=n=2:v=1:a=0,format=yuv420p[v]",
           "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "8M", "-c:a", "aac",
           "-b:a", "192k", "-t", "60", out, timeout=600)
    return out


def _shifted(graph: str, by: int) -> str:
    """The speech graph with its input numbers moved up by `by` (two video inputs come first)."""
    for i in reversed(range(3)):
        graph = graph.replace(f"[{i}:a]", f"[{i + by}:a]")
    return graph


def variant(src: Path, name: str, folder: Path) -> Path:
    video, audio, options = VARIANTS[name]
    out = folder / f"{name}.mp4"
    pre = ["-ss", "0.3"] if name == "shift_0.3s" else []
    ffmpeg(*pre, "-i", src, *(["-vf", video] if video else []), *(["-af", audio] if audio else []),
           "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", *options, out, timeout=600)
    if name == "rerecorded":  # room noise under it, at -30 dB
        noisy = folder / "rerecorded-noise.mp4"
        ffmpeg("-i", out, "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.03:d=60", "-filter_complex",
               "[0:a][1:a]amix=inputs=2:duration=first:normalize=0[a]", "-map", "0:v", "-map", "[a]", "-c:v", "copy",
               "-c:a", "aac", "-b:a", "64k", noisy)
        return noisy
    return out


def picture_noise(a: Prints, b: Prints, mirrored: bool, shift_frames: float) -> dict[str, float]:
    ref = a.mirrored if mirrored else a.picture
    mine = b.picture
    lo = int(np.floor(shift_frames))
    pairs = [(ref[i + lo:i + lo + 2], mine[i]) for i in range(min(len(mine), len(ref) - lo - 2))]
    keep = [(r, m) for r, m in pairs if m and all(r)]
    dist = np.array([min(int(x ^ m).bit_count() for x in r) for r, m in keep])
    ref1 = np.array([r[0] for r, _ in keep], np.uint64)
    mine1 = np.array([m for _, m in keep], np.uint64)
    return {"frames": len(dist), "hamming_mean": round(float(dist.mean()), 2),
            "hamming_p50": float(np.percentile(dist, 50)), "hamming_p90": float(np.percentile(dist, 90)),
            "share_le_12": round(float((dist <= 12).mean()), 3),
            "band21_equal": round(_bands(ref1, mine1, 21, 3), 3), "band16_equal": round(_bands(ref1, mine1, 16, 4), 3)}


def _bands(a: np.ndarray, b: np.ndarray, width: int, count: int) -> float:
    mask = np.uint64((1 << width) - 1)
    return float(np.mean([((a >> np.uint64(width * k)) & mask) == ((b >> np.uint64(width * k)) & mask)
                          for k in range(count)]))


def sound_noise(a: np.ndarray, b: np.ndarray, shift_steps: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for d in range(shift_steps - 4, shift_steps + 5):
        lo, hi = max(0, -d), min(len(b), len(a) - d)
        x, y = a[np.arange(lo, hi) + d], b[lo:hi]
        moving = np.r_[True, x[1:] != x[:-1]] & (x != 0)
        x, y = x[moving], y[moving]
        got = {"values": len(x), "exact": float((x == y).mean()),
               "top28": float(((x ^ y) >> np.uint32(4) == 0).mean()),
               "top24": float(((x ^ y) >> np.uint32(8) == 0).mean()),
               "bit_error": float(np.bitwise_count(x ^ y).mean() / 32)}
        if got["exact"] >= best.get("exact", -1):
            best = got
    return {k: round(v, 3) for k, v in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="keep the media in this folder")
    args = parser.parse_args()
    profile = profiles.load("micro-primary")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        src = source(folder)
        base = fingerprint_file(src, profile)
        out = {}
        for name in VARIANTS:
            other = fingerprint_file(variant(src, name, folder), profile)
            shift = 0.3 if name == "shift_0.3s" else 0.0
            out[name] = {"picture": picture_noise(base, other, name == "mirror", shift / base.picture_step_s),
                         "sound": sound_noise(base.sound, other.sound, int(round(shift / base.sound_step_s)))}
            print(name, json.dumps(out[name]), flush=True)
        unrelated = fingerprint_file(footage(folder / "unrelated.mp4", 99, 30.0, (W, H)), profile)
        print("unrelated", json.dumps({"picture": picture_noise(base, unrelated, False, 0.0),
                                       "sound": sound_noise(base.sound, unrelated.sound, 0)}))


if __name__ == "__main__":
    main()
