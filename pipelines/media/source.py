"""Open a media file once; every tool then reads that open file, not the path again.

A path checked and then reopened a dozen times (ffprobe, idet, the decode, thumbnails)
can be swapped in between (a symlink planted after the check). `opened` resolves the
path, opens it without following a final symlink, checks the opened file (a regular,
non-empty file, under the allowed roots when there are any) and yields
`/proc/self/fd/N`: the tools gateway hands descriptor N to each child, whose open of
that name reaches the very same file whatever happens to the path.
"""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pipelines.errors import InputUnreadable, MediaPathRefused

HELD = re.compile(r"^/proc/self/fd/\d+$")


@contextmanager
def opened(path: Path, roots: Sequence[Path] = ()) -> Iterator[Path]:
    """Yield a path naming the already-opened `path` (confined to `roots` when given)."""
    fd = _open(path)
    try:
        real = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if roots and not any(real.is_relative_to(root) for root in roots):
            raise MediaPathRefused(f"媒体路径被拒绝 / media path refused: {path} is outside the media roots")
        _check(os.fstat(fd), path)
        yield Path(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def name_of(path: Path) -> str:
    """The file name to show people: the opened file's own when `path` is one `opened` yielded."""
    return Path(os.readlink(path)).name if HELD.match(str(path)) else path.name


def _open(path: Path) -> int:
    real = Path(os.path.realpath(path))
    try:
        return os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputUnreadable(f"文件不存在 / file not found: {path}") from None
    except OSError as exc:
        raise InputUnreadable(f"无法打开 / cannot open: {path}: {exc.strerror}") from None


def _check(info: os.stat_result, path: Path) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise InputUnreadable(f"不是文件 / not a regular file: {path}")
    if info.st_size == 0:
        raise InputUnreadable(f"空文件 / empty file (0 bytes): {path}")
