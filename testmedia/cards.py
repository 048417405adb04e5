"""Title cards over a moving background (scrolling diagonal stripes) and then static slides:
the opening seconds as many templates have them (1280x720, 25 fps, H.264 + silent AAC)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from testmedia.base import ffmpeg
from testmedia.slides import SIZE, Slide, draw

__all__ = ["striped_card"]
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
        listing = ["ffconcat version 1.0"]
        for n, slide in enumerate(slides):
            draw(slide).save(folder / f"s{n:02d}.png")
            listing += [f"file 's{n:02d}.png'", f"duration {slide.seconds:.3f}"]
        listing.append(f"file 's{len(slides) - 1:02d}.png'")
        (folder / "list.txt").write_text("\n".join(listing) + "\n", encoding="utf-8")
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
