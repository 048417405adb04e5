"""Document readers, one per format (registry by suffix); legacy formats are converted first."""
from __future__ import annotations

import functools
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.package.documents import legacy, pdf, slides, word
from pipelines.package.documents.model import Document, DocumentUnreadable

READERS: dict[str, Callable[[Path, Any], Document]] = {".docx": word.read, ".pptx": slides.read, ".pdf": pdf.read}
CFB_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")   # OLE compound file: legacy Office, or an encrypted .docx/.pptx


def read(path: Path, suffix: str, cfg: Any, workdir: Path) -> Document:
    """The document at `path` (its package suffix `suffix`); DocumentUnreadable with the reason."""
    legacy_targets = cfg.legacy_suffixes
    if suffix in legacy_targets:
        converted = legacy.convert(path, legacy_targets[suffix], workdir, cfg.documents.libreoffice_timeout_s)
        doc = READERS[converted.suffix](converted, cfg.documents)
        doc.format = suffix.lstrip(".")
        return _with_view(doc, converted, workdir, cfg.documents)
    _sniff(path, suffix)
    if suffix in (".docx", ".pptx"):
        _check_container(path, cfg.documents.max_unpacked_bytes)
        return _with_view(READERS[suffix](path, cfg.documents), path, workdir, cfg.documents)
    return READERS[suffix](path, cfg.documents)


def _with_view(doc: Document, path: Path, workdir: Path, cfg: Any) -> Document:
    """Office pages are laid out (LibreOffice -> PDF) only when a finding needs its page picture."""
    if cfg.office_pictures:
        doc.view = functools.cache(functools.partial(legacy.office_view, path, workdir / "view", cfg))
    return doc


def _check_container(path: Path, max_bytes: int) -> None:
    """An Office file is a zip: refuse one that would unpack to more than `max_bytes` (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise DocumentUnreadable(f"文件损坏 / corrupt file: {exc}") from None
    if total > max_bytes:
        raise DocumentUnreadable(f"文件解压后过大（疑似压缩炸弹）/ unpacks to {total} bytes > {max_bytes} (zip bomb)")


def _sniff(path: Path, suffix: str) -> None:
    """Refuse what the reader would choke on, with a reason a teacher understands."""
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if not head:
        raise DocumentUnreadable("空文件 / empty file")
    if suffix in (".docx", ".pptx") and head.startswith(CFB_MAGIC):
        raise DocumentUnreadable(f"{suffix} 文件已加密（需要密码）或为改名的旧格式 / the {suffix} is password-protected "
                                 "(encrypted) or a renamed legacy file")
    if suffix == ".pdf" and b"%PDF-" not in head:
        raise DocumentUnreadable("不是 PDF 文件 / not a PDF file")
