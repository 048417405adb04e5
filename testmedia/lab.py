"""Lab-recording media: drawn bench scenes (Pillow) turned into clips with ffmpeg.

A scene is a still picture with natural-like (1/f) texture, bench objects and
a caption; clips crop it (steady, panned or shaken), overlay moving "people",
and blur or darken time ranges. Everything is generated, nothing is mocked.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from testmedia.base import SANS, ffmpeg

MARGIN = 48  # extra pixels around the output size, so crops can move


def pink_noise(width: int, height: int, seed: int) -> np.ndarray:
    """A (height, width) float image in [0, 1] with a 1/f spectrum (scale-invariant like real scenes)."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    amp = 1.0 / np.maximum(np.hypot(fx, fy), 1.0 / max(width, height))
    spectrum = amp * np.exp(2j * np.pi * rng.random(amp.shape))
    img = np.fft.irfft2(spectrum, s=(height, width))
    return (img - img.min()) / (img.max() - img.min())


def draw_scene(out: Path, width: int, height: int, seed: int, caption: str, margin: int = MARGIN) -> Path:
    """A bench scene of (width + 2*margin, height + 2*margin) pixels: texture, objects, caption."""
    w, h = width + 2 * margin, height + 2 * margin
    rng = np.random.default_rng(seed)
    base = pink_noise(w, h, seed)[..., None] * rng.uniform(80, 170, 3) + rng.uniform(20, 60, 3)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(14):
        x, y = int(rng.integers(0, w - 120)), int(rng.integers(h // 3, h - 80))
        box = [x, y, x + int(rng.integers(40, 160)), y + int(rng.integers(40, 140))]
        color = tuple(int(c) for c in rng.integers(30, 230, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=color, outline=(20, 20, 20), width=3)
    font = ImageFont.truetype(SANS, max(24, height // 14))
    draw.text((margin + width // 10, margin + height // 12), caption, font=font, fill=(250, 250, 240),
              stroke_width=2, stroke_fill=(10, 10, 10))
    img.save(out)
    return out


def steady(width: int, height: int, margin: int = MARGIN) -> str:
    """The centred crop of a scene drawn with `margin`."""
    return f"crop=w={width}:h={height}:x={margin}:y={margin}"


def shaken(width: int, height: int, start: float, end: float, amplitude: int = MARGIN - 2) -> str:
    """A crop jumping to random offsets (up to `amplitude` px) every frame in [start, end), centred elsewhere."""
    inside = f"between(t\\,{start}\\,{end - 0.001})"
    x = f"{MARGIN}+{inside}*{amplitude}*(2*random(1)-1)"
    y = f"{MARGIN}+{inside}*{amplitude}*(2*random(2)-1)"
    return f"crop=w={width}:h={height}:x='{x}':y='{y}'"


def panned(width: int, height: int, seconds: float, margin: int) -> str:
    """A smooth pan across a scene drawn with `margin`: left to right, easing in and out."""
    x = f"{margin}-{margin - 2}*cos(PI*t/{seconds})"
    return f"crop=w={width}:h={height}:x='{x}':y={margin}"


def zooming(width: int, height: int, start: float, end: float, fps: int, per_frame: float = 0.0025) -> str:
    """A zoom-in on the picture centre between `start` and `end` seconds (goes after a crop)."""
    z = f"1+{per_frame}*clip(on-{round(start * fps)}\\,0\\,{round((end - start) * fps)})"
    return f"zoompan=z='{z}':d=1:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':s={width}x{height}:fps={fps}"


@dataclass(frozen=True)
class Scene:
    """A picture shown for `seconds`: cropped by `crop`, then `after` (blur, levels); maybe a walking person."""

    picture: Path
    seconds: float
    crop: str
    after: str = ""
    person: bool = False


def _scene_graph(i: int, scene: Scene, fps: int) -> str:
    frames = round(scene.seconds * fps)
    chain = f"[{i}:v]loop=loop={frames - 1}:size=1:start=0,setpts=N/({fps}*TB)"
    if scene.person:  # a dark-clothed teacher walking to and fro, in the scene (the camera films her)
        walk = f"(W-w-{2 * MARGIN})"
        chain += (f"[b{i}];color=c=0x101010:s=240x440:r={fps}[p{i}];[b{i}][p{i}]overlay="
                  f"x='abs(mod(40*t+200\\,2*{walk})-{walk})+{MARGIN}':y=H-h-{MARGIN}:shortest=1")
    return chain + f",{scene.crop},setsar=1" + (f",{scene.after}" if scene.after else "") + f",format=yuv420p[s{i}]"


CHEAP_H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "20")


def clip(out: Path, scenes: list[Scene], fps: int = 10, encode: tuple[str, ...] = CHEAP_H264) -> Path:
    """Concatenate scenes into an H.264 clip (cheap encode by default).

    Each picture is decoded once and repeated by the loop filter (decoding a PNG per frame is slow).
    """
    inputs = [arg for scene in scenes for arg in ("-i", str(scene.picture))]
    parts = [_scene_graph(i, scene, fps) for i, scene in enumerate(scenes)]
    joined = "".join(f"[s{i}]" for i in range(len(scenes)))
    graph = ";".join(parts) + f";{joined}concat=n={len(scenes)}:v=1:a=0[v]"
    ffmpeg(*inputs, "-filter_complex", graph, "-map", "[v]", *encode, "-r", str(fps), str(out), timeout=1800)
    return out
