"""Embedded image bytes -> a gray picture (transparency on white), safely."""
from __future__ import annotations

import io
import logging
import warnings

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)


def gray_image(data: bytes, max_px: int) -> np.ndarray | None:
    """A gray array of the image, at most `max_px` wide; None for formats Pillow cannot read (EMF/WMF) or bombs."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                picture = _flatten(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        log.debug("embedded image not readable: %s", exc)
        return None
    if picture.width > max_px:
        picture = picture.resize((max_px, max(1, round(picture.height * max_px / picture.width))), Image.LANCZOS)
    return np.asarray(picture, dtype=np.uint8)


def _flatten(img: Image.Image) -> Image.Image:
    """Gray, with transparent parts white (a transparent PNG's text would vanish on black)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    return img.convert("L")
