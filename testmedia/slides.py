"""Slide videos for the on-screen tests: Pillow slides (Noto CJK sans and serif), H.264 by ffmpeg.

A video is a list of (slide, seconds); an optional semi-transparent mark is laid over
every frame and an optional moving inset (a stand-in teacher camera) in a corner.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from testmedia.base import SANS, SANS_BOLD, SERIF, ffmpeg

__all__ = ["SANS", "SANS_BOLD", "SERIF", "Slide", "Text", "Video", "render"]
SIZE = (1280, 720)


@dataclass(frozen=True)
class Text:
    """One line of text: where (left, top), how big, which font, what colour."""

    text: str
    xy: tuple[int, int]
    size: int = 40
    font: str = SANS
    fill: str = "#222222"


@dataclass(frozen=True)
class Slide:
    """Background colour, lines of text and an optional QR code (payload, left, top, side)."""

    lines: tuple[Text, ...]
    seconds: float = 4.0
    bg: str = "#fbfaf4"
    qr: tuple[str, int, int, int] | None = None


@dataclass(frozen=True)
class Video:
    """Slides in order, plus what lies over every frame."""

    slides: tuple[Slide, ...]
    mark: str | None = None          # text of a semi-transparent mark in the top-right corner
    inset: bool = False              # a moving picture-in-picture in the bottom-right corner
    extra: dict = field(default_factory=dict)


def draw(slide: Slide) -> Image.Image:
    img = Image.new("RGB", SIZE, slide.bg)
    pen = ImageDraw.Draw(img)
    for line in slide.lines:
        pen.text(line.xy, line.text, font=ImageFont.truetype(line.font, line.size), fill=line.fill)
    if slide.qr:
        payload, x, y, side = slide.qr
        code = qrcode.make(payload, border=2).get_image().convert("RGB").resize((side, side), Image.NEAREST)
        img.paste(code, (x, y))
    return img


def mark_image(text: str) -> Image.Image:
    """A white, half-transparent text mark on a dark translucent plate (like a recorder's trial mark)."""
    font = ImageFont.truetype(SANS_BOLD, 30)
    w = int(font.getlength(text)) + 28
    img = Image.new("RGBA", (w, 52), (0, 0, 0, 90))
    ImageDraw.Draw(img).text((14, 6), text, font=font, fill=(255, 255, 255, 150))
    return img


def render(out: Path, video: Video) -> Path:
    """Encode `video` to `out` (1280x720, 25 fps, H.264 + silent AAC)."""
    with tempfile.TemporaryDirectory(prefix="onscreen-") as tmp:
        folder = Path(tmp)
        listing = ["ffconcat version 1.0"]
        for n, slide in enumerate(video.slides):
            draw(slide).save(folder / f"s{n:02d}.png")
            listing += [f"file 's{n:02d}.png'", f"duration {slide.seconds:.3f}"]
        listing.append(f"file 's{len(video.slides) - 1:02d}.png'")
        (folder / "list.txt").write_text("\n".join(listing) + "\n", encoding="utf-8")
        overlays, graph = _graph(video, folder)
        inputs = [a for group in overlays for a in group]
        ffmpeg("-f", "concat", "-safe", "0", "-i", str(folder / "list.txt"), *inputs,
               "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
               "-filter_complex", graph, "-map", "[v]", "-map", f"{1 + len(overlays)}:a",
               "-t", f"{sum(s.seconds for s in video.slides)}", "-r", "25", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", str(out))
    return out


def _graph(video: Video, folder: Path) -> tuple[list[list[str]], str]:
    """Extra inputs (one argument group each, inputs 1..n) and the video filter graph."""
    overlays: list[list[str]] = []
    graph, last = "[0:v]fps=25,format=yuv420p[base]", "base"
    if video.inset:
        overlays.append(["-f", "lavfi", "-i", "testsrc2=s=212x120:r=25"])
        graph += f";[{last}][{len(overlays)}:v]overlay=x=W-w-24:y=H-h-24:shortest=1[inset]"
        last = "inset"
    if video.mark:
        mark_image(video.mark).save(folder / "mark.png")
        overlays.append(["-loop", "1", "-i", str(folder / "mark.png")])
        graph += f";[{last}][{len(overlays)}:v]overlay=x=W-w-30:y=24:shortest=1[marked]"
        last = "marked"
    return overlays, graph + f";[{last}]null[v]"
