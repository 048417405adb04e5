"""A contact sheet: small pictures in a grid, each labelled with its time (and shot), as one JPEG."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
GAP = 6


@dataclass(frozen=True)
class Tile:
    """One picture of the sheet and its caption."""

    time_s: float
    image: np.ndarray  # gray uint8
    label: str


def clock(seconds: float) -> str:
    """h:mm:ss (or m:ss under an hour)."""
    s = int(seconds)
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(CJK_FONT, size)
    except OSError:
        return ImageFont.load_default()


def render(tiles: list[Tile], title: str, columns: int, tile_width: int) -> Image.Image:
    """The grid: a title line, then rows of tiles with their labels under them."""
    tile_h = max((round(t.image.shape[0] * tile_width / t.image.shape[1]) for t in tiles), default=tile_width * 9 // 16)
    label_h = max(16, tile_width // 12)
    cols = max(1, min(columns, len(tiles)))
    rows = max(1, -(-len(tiles) // cols))
    top = label_h * 2
    sheet = Image.new("RGB", (cols * (tile_width + GAP) + GAP, top + rows * (tile_h + label_h + GAP) + GAP), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((GAP, GAP), title, font=_font(label_h), fill=(20, 20, 20))
    for n, tile in enumerate(tiles):
        x = GAP + (n % cols) * (tile_width + GAP)
        y = top + (n // cols) * (tile_h + label_h + GAP)
        sheet.paste(Image.fromarray(tile.image).convert("RGB").resize((tile_width, tile_h)), (x, y))
        draw.text((x, y + tile_h), tile.label, font=_font(label_h * 3 // 4), fill=(40, 40, 40))
    return sheet


def write(tiles: list[Tile], path: Path, title: str, columns: int, tile_width: int, quality: int) -> Path:
    """Render and save the sheet as JPEG at `path`."""
    render(tiles, title, columns, tile_width).save(path, "JPEG", quality=quality)
    return path
