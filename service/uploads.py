"""Multipart uploads streamed straight into the media store, with a size cap and a sha256.

The request body is parsed as it arrives (python-multipart's push parser): the `file`
part goes chunk by chunk into a hidden temp file in `<media root>/uploads/<job id>/`,
hashed on the way; other parts are small text fields. Past the cap the upload stops
with UploadTooLarge and the temp file and folder are removed: nothing is left on disk.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

FIELD_MAX_BYTES = 64 * 1024
MAX_FIELDS = 32
_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


class UploadError(Exception):
    """A malformed multipart body (no boundary, no file part, oversized field)."""


class UploadTooLarge(Exception):
    """The file part passed the configured cap."""


@dataclass
class Upload:
    """What a multipart body carried: text fields and the stored file."""

    fields: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    filename: str = ""
    size: int = 0
    sha256: str = ""


def safe_name(filename: str) -> str:
    """A file name safe to store: the base name, odd characters replaced, never hidden or empty."""
    base = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).lstrip(".")[:120]
    return base or "upload.bin"


class _Sink:
    """Receives the parser's callbacks: collects fields, streams the `file` part to disk."""

    def __init__(self, folder: Path, max_bytes: int):
        self.folder, self.max_bytes = folder, max_bytes
        self.upload = Upload()
        self.headers: dict[str, str] = {}
        self._name, self._value = b"", b""
        self._field: str | None = None
        self._buffer = bytearray()
        self._file: BinaryIO | None = None
        self._hash = hashlib.sha256()
        self.temp: Path | None = None

    def callbacks(self) -> dict[str, object]:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_done, "on_part_data": self._data, "on_part_end": self._end}

    def _begin(self) -> None:
        self.headers, self._field, self._buffer = {}, None, bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self.headers[self._name.decode("latin-1").lower()] = self._value.decode("latin-1")  # bytes kept as-is
        self._name, self._value = b"", b""

    def _headers_done(self) -> None:
        _, params = parse_options_header(self.headers.get("content-disposition", ""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if filename is not None and name == "file":
            if self.upload.path is not None or self._file is not None:
                raise UploadError("only one `file` part is allowed")
            self.upload.filename = filename.decode("utf-8", "replace")
            self.folder.mkdir(parents=True, exist_ok=True)
            self.temp = self.folder / f".part-{uuid.uuid4().hex}"
            self._file = self.temp.open("wb")
        elif len(self.upload.fields) >= MAX_FIELDS:
            raise UploadError(f"too many form fields (at most {MAX_FIELDS})")
        self._field = name

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is not None:
            self.upload.size += len(chunk)
            if self.upload.size > self.max_bytes:
                raise UploadTooLarge(f"upload larger than {self.max_bytes} bytes")
            self._hash.update(chunk)
            self._file.write(chunk)
            return
        self._buffer += chunk
        if len(self._buffer) > FIELD_MAX_BYTES:
            raise UploadError(f"form field '{self._field}' is longer than {FIELD_MAX_BYTES} bytes")

    def _end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self.upload.sha256 = self._hash.hexdigest()
            self.upload.path = self.folder / safe_name(self.upload.filename)
            os.replace(self.temp, self.upload.path)
            self.temp = None
        elif self._field:
            self.upload.fields[self._field] = self._buffer.decode("utf-8", "replace")

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def boundary_of(content_type: str) -> bytes:
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise UploadError("expected multipart/form-data with a boundary")
    return params[b"boundary"]


async def receive(stream: AsyncIterator[bytes], content_type: str, folder: Path, max_bytes: int) -> Upload:
    """Parse a multipart body from `stream` into `folder`; on any error nothing is left there."""
    sink = _Sink(folder, max_bytes)
    try:
        parser = MultipartParser(boundary_of(content_type), sink.callbacks())
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
        if sink.upload.path is None:
            raise UploadError("the form has no `file` part")
    except BaseException:
        sink.discard()
        raise
    return sink.upload
