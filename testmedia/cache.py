"""Generated files cached under a name that carries a digest of their spec.

The digest covers the generator (module and name), its parameters (dataclasses,
tuples, paths by file name) and the source of the generator's module and of
testmedia/base.py, so an edited fixture or generator never reuses an old file. A file is written under a temporary
name in the same folder and renamed: a reader never sees half a file, and two
processes generating the same file at once both end with a complete one.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import uuid
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from testmedia import base  # noqa: F401  (its source is part of every digest)

VERSION = 1  # bump to regenerate everything (e.g. after an ffmpeg upgrade changes encodes)


def cached(folder: Path, name: str, generator: Callable[..., Any], *args: Any, **kwargs: Any) -> Path:
    """`generator(path, *args, **kwargs)` written once as folder/<stem>-<digest><suffix>; its path."""
    stem, suffix = _split(name)
    out = folder / f"{stem}-{digest(generator, args, kwargs)}{suffix}"
    if out.is_file() and out.stat().st_size > 0:
        return out
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp{suffix}"
    try:
        generator(tmp, *args, **kwargs)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def digest(generator: Callable[..., Any], args: tuple, kwargs: dict) -> str:
    """Ten hex digits naming one spec."""
    spec = {"generator": f"{generator.__module__}.{generator.__qualname__}", "args": args, "kwargs": kwargs,
            "source": _source(generator.__module__), "version": VERSION}
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False, default=_plain)
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def _split(name: str) -> tuple[str, str]:
    path = Path(name)
    return path.name[: len(path.name) - len(path.suffix)], path.suffix


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__, **dataclasses.asdict(value)}
    if isinstance(value, Path):
        return value.name  # cached inputs carry their own digest in the name
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot key a media spec on {type(value).__name__}")


@lru_cache(maxsize=32)
def _source(module: str) -> str:
    """Digest of the generator's module and the shared base: a changed generator regenerates its media."""
    sha = hashlib.sha1()
    for name in sorted({module, "testmedia.base"}):
        path = getattr(sys.modules.get(name), "__file__", None)
        sha.update(name.encode() + b"\0" + (Path(path).read_bytes() if path else b""))
    return sha.hexdigest()
