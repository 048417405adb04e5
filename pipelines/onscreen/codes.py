"""QR codes and barcodes in a gray frame (OpenCV detectors), with their payload when readable."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from pipelines.ocr.engine import Box


@dataclass(frozen=True)
class Code:
    """One code on screen: kind ("qr" or a barcode type), decoded payload ("" if unreadable), box."""

    kind: str
    payload: str
    box: Box


_local = threading.local()


def _detectors() -> tuple[object, object | None]:
    """Detectors, kept per thread (OpenCV objects are not shared between threads).

    The ArUco-based QR detector: ~25 ms on a 1080p slide without codes (the classic
    QRCodeDetector ~120 ms), and it finds small codes the classic one misses.
    """
    if not hasattr(_local, "qr"):
        _local.qr = cv2.QRCodeDetectorAruco()
        _local.bar = cv2.barcode.BarcodeDetector() if hasattr(cv2, "barcode") else None
    return _local.qr, _local.bar


def find_codes(gray: np.ndarray, barcodes: bool = True) -> list[Code]:
    """Every QR code (and barcode) found in `gray`."""
    detector, bar = _detectors()
    found = _qr_codes(detector, gray)
    if barcodes and bar is not None:
        found += [c for c in _barcodes(bar, gray) if not any(_overlaps(c.box, q.box) for q in found)]
    return found


def _qr_codes(detector: object, gray: np.ndarray) -> list[Code]:
    try:
        ok, texts, points, _ = detector.detectAndDecodeMulti(gray)
    except cv2.error:
        return []
    if not ok or points is None:
        return []
    return [Code("qr", text or "", _box(pts)) for text, pts in zip(texts, points)]


def _barcodes(bar: object, gray: np.ndarray) -> list[Code]:
    try:
        ok, texts, kinds, points = bar.detectAndDecodeWithType(gray)
    except cv2.error:
        return []
    if not ok or points is None:
        return []
    return [Code((kind or "barcode").lower(), text or "", _box(pts)) for text, kind, pts in zip(texts, kinds, points)]


def _box(points: np.ndarray) -> Box:
    pts = np.asarray(points).reshape(-1, 2)
    return int(pts[:, 0].min()), int(pts[:, 1].min()), int(pts[:, 0].max()), int(pts[:, 1].max())


def _overlaps(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])
