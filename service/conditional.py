"""Conditional GETs: an ETag on an answer, and 304 Not Modified when the client's If-None-Match has it."""
from __future__ import annotations

import hashlib

from fastapi import Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel

CACHE = "private, no-cache"  # a client may keep the answer but must revalidate it (ETag) before use


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(request: Request, etag: str) -> bool:
    """If-None-Match names `etag` (weak comparison) or is `*`."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


def not_modified(etag: str, cache: str = CACHE) -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})


def model_answer(request: Request, model: BaseModel) -> Response:
    """`model` as JSON with its ETag, or 304 when the client has it already."""
    body = model.model_dump_json().encode("utf-8")
    etag = etag_of(body)
    if matches(request, etag):
        return not_modified(etag)
    return Response(body, media_type="application/json", headers={"ETag": etag, "Cache-Control": CACHE})


def file_answer(request: Request, file: FileResponse) -> Response:
    """A file (made with its stat_result) with the ETag it computed from mtime and size, or 304 when the
    client has it (with the file's own Cache-Control)."""
    etag = file.headers["etag"]
    if matches(request, etag):
        return not_modified(etag, file.headers.get("cache-control", CACHE))
    return file
