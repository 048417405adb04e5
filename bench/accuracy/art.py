"""Pictures for the benchmark lessons: text layers (Noto CJK, simplified-Chinese faces) and background images."""
from __future__ import annotations

import functools
import random

import numpy as np
import qrcode
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.accuracy.model import Picture, Text

SIZE = (1920, 1080)
NOTO = "/usr/share/fonts/opentype/noto/Noto{family}CJK-{weight}.ttc"
SC_INDEX = 2  # the simplified-Chinese face inside the Noto CJK collections


@functools.lru_cache(maxsize=64)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    family, _, bold = name.partition("-")
    path = NOTO.format(family="Serif" if family == "serif" else "Sans", weight="Bold" if bold else "Regular")
    return ImageFont.truetype(path, size, index=SC_INDEX)


def layer(picture: Picture) -> Image.Image:
    """The picture on a transparent 1920x1080 canvas."""
    img = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    for panel in picture.panels:
        pen.rounded_rectangle(panel.box, panel.radius, fill=_rgba(panel.fill))
    for text in picture.texts:
        _text(pen, text)
    if picture.qr:
        payload, x, y, side = picture.qr
        code = qrcode.make(payload, border=2).get_image().convert("RGBA").resize((side, side), Image.NEAREST)
        img.alpha_composite(code, (x, y))
    return img


def _text(pen: ImageDraw.ImageDraw, text: Text) -> None:
    face = font(text.font, text.size)
    if not text.vertical:
        pen.text(text.xy, text.text, font=face, fill=_rgba(text.fill), anchor=text.anchor)
        return
    x, y = text.xy
    for ch in text.text:
        pen.text((x, y), ch, font=face, fill=_rgba(text.fill), anchor="ma")
        y += int(text.size * 1.15)


def _rgba(colour: str) -> tuple[int, int, int, int]:
    c = colour.lstrip("#")
    alpha = int(c[6:8], 16) if len(c) == 8 else 255
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), alpha


def stripes(colour: str, colour2: str, period: int) -> Image.Image:
    """Diagonal stripes, `period` px apart, wide enough to scroll by one period."""
    w, h = SIZE[0] + period, SIZE[1]
    x = np.arange(w)[None, :] + np.arange(h)[:, None]
    band = (x % period) < period // 2
    a, b = np.array(_rgba(colour)[:3]), np.array(_rgba(colour2)[:3])
    return Image.fromarray(np.where(band[..., None], a, b).astype(np.uint8), "RGB")


@functools.lru_cache(maxsize=16)
def gradient(colour: str, colour2: str, seed: int, size: tuple[int, int] = (2400, 1400)) -> Image.Image:
    """A soft two-colour gradient with a few light circles (an animated template background, panned)."""
    w, h = size
    t = (np.linspace(0, 1, w)[None, :] * 0.6 + np.linspace(0, 1, h)[:, None] * 0.4)[..., None]
    a, b = np.array(_rgba(colour)[:3]), np.array(_rgba(colour2)[:3])
    img = Image.fromarray((a * (1 - t) + b * t).astype(np.uint8), "RGB")
    pen, rng = ImageDraw.Draw(img, "RGBA"), random.Random(seed)
    for _ in range(14):
        cx, cy, r = rng.randint(0, w), rng.randint(0, h), rng.randint(60, 300)
        pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 255, 70))
    return img


@functools.lru_cache(maxsize=16)
def photo(seed: int, size: tuple[int, int] = (2240, 1260)) -> Image.Image:
    """A photograph-like picture: sky and ground gradients, blurred blobs (trees, buildings), grain."""
    rng = random.Random(seed)
    w, h = size
    y = np.linspace(0, 1, h)[:, None, None]
    top, ground = np.array([rng.randint(90, 200) for _ in range(3)]), np.array([rng.randint(40, 140) for _ in range(3)])
    arr = np.broadcast_to(top * (1 - y) + ground * y, (h, w, 3)).astype(np.float32)
    img = Image.fromarray(arr.astype(np.uint8), "RGB")
    pen = ImageDraw.Draw(img)
    for _ in range(40):
        cx, cy, r = rng.randint(0, w), rng.randint(h // 3, h), rng.randint(40, 260)
        pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(rng.randint(20, 235) for _ in range(3)))
    for _ in range(12):
        x0, y0 = rng.randint(0, w), rng.randint(h // 4, h // 2)
        pen.rectangle((x0, y0, x0 + rng.randint(80, 300), h), fill=tuple(rng.randint(30, 200) for _ in range(3)))
    img = img.filter(ImageFilter.GaussianBlur(6))
    grain = np.random.default_rng(seed).normal(0, 6, (h, w, 1))
    return Image.fromarray(np.clip(np.asarray(img, np.float32) + grain, 0, 255).astype(np.uint8), "RGB")


def person(seed: int, size: tuple[int, int] = (360, 520)) -> Image.Image:
    """A stand-in teacher (head and shoulders) for the camera shots, on transparency."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    shirt = tuple(rng.randint(30, 200) for _ in range(3)) + (255,)
    pen.ellipse((w * 0.05, h * 0.45, w * 0.95, h * 1.3), fill=shirt)
    pen.ellipse((w * 0.28, h * 0.08, w * 0.72, h * 0.5), fill=(224, 186, 150, 255))
    pen.pieslice((w * 0.26, h * 0.04, w * 0.74, h * 0.42), 180, 360, fill=(30, 24, 20, 255))
    return img
