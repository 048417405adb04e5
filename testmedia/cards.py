"""Title cards over a moving background (scrolling stripes, a panning photograph-like picture) or a
plain one, optionally fading in, then static slides: the opening seconds as many templates have
them (1280x720, 25 fps, H.264 + silent AAC). Card layouts: lines, columns, ruled tables, labels
above values, text written top to bottom (`Card`)."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from testmedia.base import ffmpeg
from testmedia.slides import SIZE, Slide, draw

__all__ = ["Card", "card_video", "striped_card"]
PERIOD = 96


def _stripes(folder: Path) -> Path:
    w, h = SIZE[0] + PERIOD, SIZE[1]
    band = ((np.arange(w)[None, :] + np.arange(h)[:, None]) % PERIOD) < PERIOD // 2
    rgb = np.where(band[..., None], np.array([144, 202, 249]), np.array([187, 222, 251])).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(folder / "stripes.png")
    return folder / "stripes.png"


def _panel(card: Slide, box: tuple[int, int, int, int], folder: Path) -> Path:
    img = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    pen.rounded_rectangle(box, 16, fill=(255, 255, 255, 255))
    for line in card.lines:
        pen.text(line.xy, line.text, font=ImageFont.truetype(line.font, line.size), fill=line.fill)
    img.save(folder / "card.png")
    return folder / "card.png"


def striped_card(out: Path, card: Slide, box: tuple[int, int, int, int], slides: tuple[Slide, ...]) -> Path:
    """`card`'s lines on a white panel (`box`) over stripes scrolling 120 px/s for `card.seconds`, then `slides`."""
    with tempfile.TemporaryDirectory(prefix="card-") as tmp:
        folder = Path(tmp)
        _slide_list(folder, slides)
        total = card.seconds + sum(s.seconds for s in slides)
        loop = "loop=loop=-1:size=1:start=0,setpts=N/(25*TB)"
        graph = (f"[0:v]format=yuv420p,{loop},crop={SIZE[0]}:{SIZE[1]}:x='mod(t*120,{PERIOD})':y=0[bg];"
                 f"[1:v]format=yuva420p,{loop}[panel];[bg][panel]overlay=0:0,trim=duration={card.seconds},"
                 f"setpts=PTS-STARTPTS[card];[2:v]fps=25,format=yuv420p,setpts=PTS-STARTPTS[rest];"
                 f"[card][rest]concat=n=2:v=1:a=0[v]")
        ffmpeg("-i", str(_stripes(folder)), "-i", str(_panel(card, box, folder)),
               "-f", "concat", "-safe", "0", "-i", str(folder / "list.txt"),
               "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-filter_complex", graph,
               "-map", "[v]", "-map", "3:a", "-t", f"{total}", "-r", "25", "-c:v", "libx264", "-preset", "ultrafast",
               "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", str(out))
    return out


@dataclass(frozen=True)
class Card:
    """A title card: horizontal lines, lines written top to bottom, ruled lines (left, top, right,
    bottom), the background ("solid" colour `bg`, "stripes" scrolling, "photo" panning) and a fade-in."""

    lines: tuple[Text, ...]
    vertical: tuple[Text, ...] = ()
    rules: tuple[tuple[int, int, int, int], ...] = ()
    background: str = "solid"
    bg: str = "#f6efe0"
    fade_s: float = 0.0
    seconds: float = 6.0


def _photo(folder: Path) -> Path:
    """A photograph-like picture (smooth colour fields, texture), wider than the frame for panning."""
    rng = np.random.default_rng(7)
    w, h = SIZE[0] + 240, SIZE[1]
    small = rng.integers(30, 200, (6, 12, 3)).astype(np.uint8)
    img = np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC)).astype(np.int16)
    img += rng.normal(0, 10, (h, w, 1)).astype(np.int16)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").save(folder / "photo.png")
    return folder / "photo.png"


def _card_layer(card: Card, folder: Path) -> Path:
    img = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    for rule in card.rules:
        pen.line([rule[:2], rule[2:]], fill=(60, 60, 60, 255), width=3)
    for line in card.lines:
        pen.text(line.xy, line.text, font=ImageFont.truetype(line.font, line.size), fill=line.fill)
    for line in card.vertical:
        font = ImageFont.truetype(line.font, line.size)
        for i, ch in enumerate(line.text):
            pen.text((line.xy[0], line.xy[1] + int(i * line.size * 1.15)), ch, font=font, fill=line.fill)
    img.save(folder / "card.png")
    return folder / "card.png"


def _backdrop(card: Card, folder: Path) -> tuple[list[str], str]:
    """ffmpeg input arguments of the card's background and the filter turning it into frames."""
    loop = "loop=loop=-1:size=1:start=0,setpts=N/(25*TB)"
    if card.background == "stripes":
        return ["-i", str(_stripes(folder))], f"{loop},crop={SIZE[0]}:{SIZE[1]}:x='mod(t*120,{PERIOD})':y=0"
    if card.background == "photo":
        return ["-i", str(_photo(folder))], f"{loop},crop={SIZE[0]}:{SIZE[1]}:x='t*30':y=0"
    return ["-f", "lavfi", "-i", f"color=c={card.bg}:s={SIZE[0]}x{SIZE[1]}:r=25"], "null"


def card_video(out: Path, card: Card, slides: tuple[Slide, ...]) -> Path:
    """`card` for `card.seconds` (fading in over `card.fade_s`), then `slides`."""
    with tempfile.TemporaryDirectory(prefix="card-") as tmp:
        folder = Path(tmp)
        _slide_list(folder, slides)
        total = card.seconds + sum(s.seconds for s in slides)
        backdrop, moving = _backdrop(card, folder)
        fade = f",fade=in:st=0:d={card.fade_s}:alpha=1" if card.fade_s else ""
        graph = (f"[0:v]format=yuv420p,{moving}[bg];[1:v]format=yuva420p,loop=loop=-1:size=1:start=0,"
                 f"setpts=N/(25*TB){fade}[layer];[bg][layer]overlay=0:0,trim=duration={card.seconds},"
                 f"setpts=PTS-STARTPTS[card];[2:v]fps=25,format=yuv420p,setpts=PTS-STARTPTS[rest];"
                 f"[card][rest]concat=n=2:v=1:a=0[v]")
        ffmpeg(*backdrop, "-i", str(_card_layer(card, folder)), "-f", "concat", "-safe", "0", "-i", str(folder / "list.txt"),
               "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-filter_complex", graph,
               "-map", "[v]", "-map", "3:a", "-t", f"{total}", "-r", "25", "-c:v", "libx264", "-preset", "ultrafast",
               "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", str(out))
    return out


def _slide_list(folder: Path, slides: tuple[Slide, ...]) -> None:
    """`slides` drawn into `folder` with the ffconcat list that shows each for its seconds (list.txt)."""
    listing = ["ffconcat version 1.0"]
    for n, slide in enumerate(slides):
        draw(slide).save(folder / f"s{n:02d}.png")
        listing += [f"file 's{n:02d}.png'", f"duration {slide.seconds:.3f}"]
    listing.append(f"file 's{len(slides) - 1:02d}.png'")
    (folder / "list.txt").write_text("\n".join(listing) + "\n", encoding="utf-8")
