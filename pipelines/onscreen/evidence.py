"""Evidence pictures: a frame with the boxes of what was found drawn on it."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipelines.ocr.engine import Box

RED = (40, 40, 230)


def draw_boxes(gray: np.ndarray, boxes: list[Box], out: Path, width: int) -> Path | None:
    """Write a JPEG of `gray` (scaled to `width`) with `boxes` outlined in red; None if it fails."""
    scale = min(1.0, width / gray.shape[1])
    picture = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if scale < 1.0:
        picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    thickness = max(2, int(round(3 * scale)))
    for left, top, right, bottom in boxes:
        pad = max(2, int(6 * scale))
        corner1 = (int(left * scale) - pad, int(top * scale) - pad)
        corner2 = (int(right * scale) + pad, int(bottom * scale) + pad)
        cv2.rectangle(picture, corner1, corner2, RED, thickness)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = cv2.imwrite(str(out), picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return out if ok else None
