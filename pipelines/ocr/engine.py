"""In-process tesseract through its C API (ctypes on libtesseract, no build step).

Measured on 1080p slides: a `tesseract` process per image costs ~0.3 s (0.15-0.2 s of
it start-up and model load) and ~1 s with OpenMP's default threads; one engine kept
in the process recognises a slide in 0.05-0.2 s. OpenMP is held to one thread (it
only adds overhead here), by setting OMP_THREAD_LIMIT while the library loads.
"""
from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pipelines.errors import ToolError, ToolMissing

log = logging.getLogger(__name__)

ENV_LIBRARY = "LESSONQC_LIBTESSERACT"
RIL_BLOCK, RIL_PARA, RIL_TEXTLINE, RIL_WORD, RIL_SYMBOL = range(5)
PSM_AUTO, PSM_SINGLE_LINE = 3, 7

Box = tuple[int, int, int, int]  # left, top, right, bottom (pixels)

_V, _I, _S, _F = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_float
_PI = ctypes.POINTER(ctypes.c_int)
_SIGNATURES: dict[str, tuple[object, list[object]]] = {
    "TessVersion": (_S, []),
    "TessBaseAPICreate": (_V, []),
    "TessBaseAPIInit3": (_I, [_V, _S, _S]),
    "TessBaseAPISetVariable": (_I, [_V, _S, _S]),
    "TessBaseAPISetPageSegMode": (None, [_V, _I]),
    "TessBaseAPISetImage": (None, [_V, _V, _I, _I, _I, _I]),
    "TessBaseAPISetSourceResolution": (None, [_V, _I]),
    "TessBaseAPIAnalyseLayout": (_V, [_V]),
    "TessBaseAPIRecognize": (_I, [_V, _V]),
    "TessBaseAPIGetIterator": (_V, [_V]),
    "TessBaseAPIClear": (None, [_V]),
    "TessBaseAPIEnd": (None, [_V]),
    "TessBaseAPIDelete": (None, [_V]),
    "TessPageIteratorNext": (_I, [_V, _I]),
    "TessPageIteratorBoundingBox": (_I, [_V, _I, _PI, _PI, _PI, _PI]),
    "TessPageIteratorIsAtBeginningOf": (_I, [_V, _I]),
    "TessPageIteratorDelete": (None, [_V]),
    "TessResultIteratorGetPageIterator": (_V, [_V]),
    "TessResultIteratorNext": (_I, [_V, _I]),
    "TessResultIteratorGetUTF8Text": (_V, [_V, _I]),
    "TessResultIteratorConfidence": (_F, [_V, _I]),
    "TessResultIteratorDelete": (None, [_V]),
    "TessDeleteText": (None, [_V]),
}

_lib: ctypes.CDLL | None = None
_lock = threading.Lock()
_per_thread = threading.local()


def library() -> ctypes.CDLL:
    """libtesseract, loaded once with its C signatures declared (path: LESSONQC_LIBTESSERACT)."""
    global _lib
    with _lock:
        if _lib is None:
            _lib = _declare(_load())
    return _lib


def _load() -> ctypes.CDLL:
    name = os.environ.get(ENV_LIBRARY) or ctypes.util.find_library("tesseract") or "libtesseract.so.5"
    previous = os.environ.get("OMP_THREAD_LIMIT")
    os.environ["OMP_THREAD_LIMIT"] = "1"  # read by libgomp when it loads with libtesseract
    try:
        return ctypes.CDLL(name)
    except OSError as exc:
        raise ToolMissing(f"libtesseract not found ({exc}); install tesseract-ocr or set {ENV_LIBRARY}") from None
    finally:
        if previous is None:
            os.environ.pop("OMP_THREAD_LIMIT", None)
        else:
            os.environ["OMP_THREAD_LIMIT"] = previous


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def preflight(languages: Iterable[str]) -> None:
    """Raise ToolMissing, with the install hint, unless libtesseract loads and reads every language set."""
    for languages_set in dict.fromkeys(languages):
        Engine(languages_set).close()


def _packages(languages: str) -> list[str]:
    """Debian packages holding the traineddata of "chi_sim+eng" and the like."""
    return [f"tesseract-ocr-{lang.replace('_', '-').lower()}" for lang in languages.split("+") if lang]


def version() -> str:
    return library().TessVersion().decode()


def engine(languages: str) -> "Engine":
    """This thread's engine for `languages`, loaded on first use and kept (models load once)."""
    cache: dict[str, Engine] = _per_thread.__dict__.setdefault("engines", {})
    if languages not in cache:
        cache[languages] = Engine(languages)
    return cache[languages]


@dataclass(frozen=True)
class Symbol:
    """One recognised character with its confidence (0-100) and box."""

    text: str
    conf: float
    box: Box
    word_start: bool


class Engine:
    """One initialised tesseract model set (e.g. "chi_sim+eng"); not shared between threads."""

    def __init__(self, languages: str, datapath: str | None = None):
        self.languages = languages
        self._lib = library()
        self._api = self._lib.TessBaseAPICreate()
        path = datapath.encode() if datapath else None
        if self._lib.TessBaseAPIInit3(self._api, path, languages.encode()) != 0:
            self.close()
            raise ToolMissing(f"tesseract cannot load languages '{languages}' (install their traineddata: "
                              f"apt-get install {' '.join(_packages(languages))})")
        self._lib.TessBaseAPISetVariable(self._api, b"debug_file", os.devnull.encode())
        atexit.register(self.close)

    def close(self) -> None:
        """Free the engine (safe to call twice)."""
        if self._api:
            self._lib.TessBaseAPIEnd(self._api)
            self._lib.TessBaseAPIDelete(self._api)
            self._api = None

    def _set_image(self, image: np.ndarray, psm: int) -> np.ndarray:
        img = np.ascontiguousarray(image, dtype=np.uint8)
        self._lib.TessBaseAPISetPageSegMode(self._api, psm)
        self._lib.TessBaseAPISetImage(self._api, img.ctypes.data, img.shape[1], img.shape[0], 1, img.strides[0])
        self._lib.TessBaseAPISetSourceResolution(self._api, 70)
        return img  # the caller keeps it alive while tesseract reads it

    def layout_lines(self, image: np.ndarray) -> list[Box]:
        """Text-line boxes from page layout analysis alone (no recognition)."""
        keep = self._set_image(image, PSM_AUTO)
        it = self._lib.TessBaseAPIAnalyseLayout(self._api)
        boxes: list[Box] = []
        while it:
            box = self._box(it, RIL_TEXTLINE)
            if box:
                boxes.append(box)
            if not self._lib.TessPageIteratorNext(it, RIL_TEXTLINE):
                break
        if it:
            self._lib.TessPageIteratorDelete(it)
        self._lib.TessBaseAPIClear(self._api)
        del keep
        return boxes

    def symbols(self, image: np.ndarray, psm: int = PSM_SINGLE_LINE) -> list[Symbol]:
        """Recognise `image` (gray uint8); characters in reading order."""
        keep = self._set_image(image, psm)
        if self._lib.TessBaseAPIRecognize(self._api, None) != 0:
            raise ToolError(f"tesseract ({self.languages}) failed to recognise an image")
        found = self._read_symbols()
        self._lib.TessBaseAPIClear(self._api)
        del keep
        return found

    def page_lines(self, image: np.ndarray) -> list[tuple[str, float, Box]]:
        """Recognise a whole picture with tesseract's own page layout: (text, confidence, box) per line."""
        keep = self._set_image(image, PSM_AUTO)
        if self._lib.TessBaseAPIRecognize(self._api, None) != 0:
            raise ToolError(f"tesseract ({self.languages}) failed to recognise an image")
        found = self._read_lines()
        self._lib.TessBaseAPIClear(self._api)
        del keep
        return found

    def _read_lines(self) -> list[tuple[str, float, Box]]:
        it = self._lib.TessBaseAPIGetIterator(self._api)
        if not it:
            return []
        page = self._lib.TessResultIteratorGetPageIterator(it)
        found: list[tuple[str, float, Box]] = []
        while True:
            raw = self._lib.TessResultIteratorGetUTF8Text(it, RIL_TEXTLINE)
            box = self._box(page, RIL_TEXTLINE)
            if raw:
                text = ctypes.string_at(raw).decode("utf-8", "replace").strip()
                self._lib.TessDeleteText(raw)
                if text and box is not None:
                    found.append((text, float(self._lib.TessResultIteratorConfidence(it, RIL_TEXTLINE)), box))
            if not self._lib.TessResultIteratorNext(it, RIL_TEXTLINE):
                break
        self._lib.TessResultIteratorDelete(it)
        return found

    def _read_symbols(self) -> list[Symbol]:
        it = self._lib.TessBaseAPIGetIterator(self._api)
        if not it:
            return []
        page = self._lib.TessResultIteratorGetPageIterator(it)
        found: list[Symbol] = []
        while True:
            symbol = self._symbol(it, page)
            if symbol:
                found.append(symbol)
            if not self._lib.TessResultIteratorNext(it, RIL_SYMBOL):
                break
        self._lib.TessResultIteratorDelete(it)
        return found

    def _symbol(self, it: int, page: int) -> Symbol | None:
        raw = self._lib.TessResultIteratorGetUTF8Text(it, RIL_SYMBOL)
        if not raw:
            return None
        text = ctypes.string_at(raw).decode("utf-8", "replace")
        self._lib.TessDeleteText(raw)
        box = self._box(page, RIL_SYMBOL)
        if not text.strip() or box is None:
            return None
        starts = bool(self._lib.TessPageIteratorIsAtBeginningOf(page, RIL_WORD))
        return Symbol(text, float(self._lib.TessResultIteratorConfidence(it, RIL_SYMBOL)), box, starts)

    def _box(self, page: int, level: int) -> Box | None:
        vals = [ctypes.c_int() for _ in range(4)]
        if not self._lib.TessPageIteratorBoundingBox(page, level, *(ctypes.byref(v) for v in vals)):
            return None
        return vals[0].value, vals[1].value, vals[2].value, vals[3].value
