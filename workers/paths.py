"""Media references: paths confined to the configured media roots.

`LESSONQC_MEDIA_ROOTS` lists the folders (os.pathsep-separated) the farm may read.
A reference is an absolute path, or a path relative to the first root. Anything
with `..`, a symlink leading out of the roots, or a path under no root is refused.
"""
from __future__ import annotations

import os
from pathlib import Path

from pipelines.errors import MediaPathRefused

ROOTS_ENV = "LESSONQC_MEDIA_ROOTS"


def media_roots(value: str | None = None) -> list[Path]:
    """The configured roots, resolved (symlinks in the root paths themselves are followed)."""
    text = os.environ.get(ROOTS_ENV, "") if value is None else value
    return [Path(part).expanduser().resolve() for part in text.split(os.pathsep) if part.strip()]


def resolve(ref: str | Path, roots: list[Path] | None = None) -> Path:
    """The real path of media reference `ref`, or MediaPathRefused with the reason."""
    roots = media_roots() if roots is None else roots
    if not roots:
        raise MediaPathRefused(f"媒体路径被拒绝 / media path refused: {ref}: no media roots configured "
                               f"(set {ROOTS_ENV})")
    try:
        path = Path(ref).expanduser()
    except RuntimeError:  # ~name of no such user
        raise MediaPathRefused(f"媒体路径被拒绝 / media path refused: {ref}: unknown home folder") from None
    if ".." in path.parts:
        raise MediaPathRefused(f"媒体路径被拒绝 / media path refused: {ref}: '..' is not allowed")
    lexical = path if path.is_absolute() else roots[0] / path
    real = lexical.resolve()
    if not _under_any(real, roots):
        raise MediaPathRefused(f"媒体路径被拒绝 / media path refused: {ref} {_why(lexical, real, roots)}")
    return real


def _under_any(path: Path, roots: list[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def _why(lexical: Path, real: Path, roots: list[Path]) -> str:
    """Why, naming no server path (neither the symlink's target nor the roots: the message reaches clients)."""
    if real != lexical and _under_any(lexical.parent.resolve(), roots):
        return "is a symlink leading out of the media roots"
    return "is outside the media roots"
