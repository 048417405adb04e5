"""A package's files, safely: a .zip unpacked into the work folder, or a folder listed in place.

Refused whole (PackageRefused, never a partial unpack outside the work folder): paths that
climb out (`..`) or are absolute, symlinks, encrypted members, nested archives, more files,
more bytes or a higher compression ratio than the caps (`package.limits`). Zips made on
Chinese Windows carry GBK/CP936 names without the UTF-8 flag: such names are decoded as
UTF-8 when valid, else as GB18030 (a superset of GBK).
"""
from __future__ import annotations

import os
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pipelines.errors import LessonQCError

UTF8_FLAG = 0x800
ENCRYPTED_FLAG = 0x1
UNICODE_PATH = 0x7075
CHUNK = 1 << 20


class PackageRefused(LessonQCError):
    """The package as a whole cannot be taken (unsafe or over the caps); `reason` is a stable word."""

    def __init__(self, reason: str, message: str, member: str = ""):
        super().__init__(message)
        self.reason = reason
        self.member = member


@dataclass(frozen=True)
class PackageFile:
    """One file of the package: where it is on disk and its name inside the package."""

    path: Path
    name: str          # relative, '/'-separated, as the teacher named it

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix.lower()


def open_package(source: Path, workdir: Path, cfg: Any) -> list[PackageFile]:
    """The files of `source` (a folder or a .zip); a zip is unpacked under `workdir`."""
    if source.is_dir():
        return list_folder(source, cfg.limits, cfg.archive_suffixes)
    if not zipfile.is_zipfile(source):
        raise PackageRefused("not_a_package", f"不是文件夹或 zip 压缩包 / not a folder or a zip archive: {source.name}")
    return unpack_zip(source, workdir / "package", cfg.limits, cfg.archive_suffixes)


def decode_name(info: zipfile.ZipInfo) -> str:
    """The member name as written: UTF-8 when flagged, or given in an Info-ZIP Unicode Path field,
    or valid as UTF-8; else GBK (GB18030)."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    raw = info.filename.encode("cp437")
    unicode_path = _unicode_path(info.extra, raw)
    if unicode_path is not None:
        return unicode_path
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _unicode_path(extra: bytes, raw: bytes) -> str | None:
    """The UTF-8 name of an Info-ZIP Unicode Path extra field (0x7075) that matches `raw` (its CRC)."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4:at + 4 + size]
        if kind == UNICODE_PATH and len(body) > 5 and body[0] == 1 and struct.unpack_from("<I", body, 1)[0] == zlib.crc32(raw):
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        at += 4 + size
    return None


def safe_name(name: str) -> str:
    """A member name as a relative path inside the package, or PackageRefused (zip-slip)."""
    clean = name.replace("\\", "/")
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":"):
        raise PackageRefused("absolute_path", f"压缩包含绝对路径 / absolute path in the archive: {name}", name)
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise PackageRefused("zip_slip", f"压缩包含越出目录的路径 / path escapes the package (zip-slip): {name}", name)
    return "/".join(parts)


def unpack_zip(source: Path, dest: Path, limits: Any, archives: list[str]) -> list[PackageFile]:
    """Check every member against the caps first, then unpack the files under `dest`."""
    with zipfile.ZipFile(source) as archive:
        members = [(info, safe_name(decode_name(info))) for info in archive.infolist()]
        files = [(info, name) for info, name in members if not info.is_dir() and name]
        _check_members(files, limits, archives)
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        return [_extract(archive, info, name, root, limits.max_total_bytes) for info, name in files]


def _check_members(files: list[tuple[zipfile.ZipInfo, str]], limits: Any, archives: list[str]) -> None:
    if len(files) > limits.max_files:
        raise PackageRefused("too_many_files", f"文件过多 / too many files: {len(files)} > {limits.max_files}")
    total = sum(info.file_size for info, _ in files)
    if total > limits.max_total_bytes:
        raise PackageRefused("too_large", f"解压后过大 / unpacks to {total} bytes > {limits.max_total_bytes}")
    for info, name in files:
        _check_member(info, name, limits, archives)


def _check_member(info: zipfile.ZipInfo, name: str, limits: Any, archives: list[str]) -> None:
    if stat.S_ISLNK(info.external_attr >> 16):
        raise PackageRefused("symlink", f"压缩包含符号链接 / symlink in the archive: {name}", name)
    if info.flag_bits & ENCRYPTED_FLAG:
        raise PackageRefused("encrypted", f"压缩包已加密 / encrypted archive member: {name}", name)
    if PurePosixPath(name).suffix.lower() in archives:
        raise PackageRefused("nested_archive", f"压缩包内含压缩包 / archive inside the package: {name}", name)
    if len(PurePosixPath(name).parts) > limits.max_depth:
        raise PackageRefused("too_deep", f"目录层级过深 / folders nested too deep: {name}", name)
    ratio = info.file_size / max(1, info.compress_size)
    if info.file_size > limits.ratio_min_bytes and ratio > limits.max_ratio:
        raise PackageRefused("zip_bomb", f"压缩比异常（疑似压缩炸弹）/ compression ratio {ratio:.0f} > "
                                         f"{limits.max_ratio} (zip bomb): {name}", name)


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, root: Path, cap: int) -> PackageFile:
    """Stream one member to `root/name`, never past its declared size (headers can lie)."""
    target = (root / name).resolve()
    if not target.is_relative_to(root):
        raise PackageRefused("zip_slip", f"路径越出目录 / path escapes the package: {name}", name)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    if target.exists():
        raise PackageRefused("duplicate_name", f"压缩包内文件重名 / the same name twice in the archive: {name}", name)
    with archive.open(info) as src, open(target, "xb") as out:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > info.file_size or written > cap:
                raise PackageRefused("zip_bomb", f"解压数据超出声明大小 / member unpacks past its size: {name}", name)
            out.write(chunk)
    return PackageFile(target, name)


def list_folder(folder: Path, limits: Any, archives: list[str]) -> list[PackageFile]:
    """The files of a package folder; symlinks, nested archives and the caps refuse it."""
    found: list[PackageFile] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for entry in [*dirnames, *filenames]:
            path = Path(dirpath) / entry
            name = path.relative_to(folder).as_posix()
            if path.is_symlink():
                raise PackageRefused("symlink", f"文件夹含符号链接 / symlink in the package folder: {name}", name)
            if entry in filenames:
                info = _folder_member(path, name, limits, archives)
                total += info.file_size
                found.append(PackageFile(path, name))
        if len(found) > limits.max_files:
            raise PackageRefused("too_many_files", f"文件过多 / too many files: more than {limits.max_files}")
    if total > limits.max_total_bytes:
        raise PackageRefused("too_large", f"文件总量过大 / {total} bytes > {limits.max_total_bytes}")
    return sorted(found, key=lambda f: f.name)


def _folder_member(path: Path, name: str, limits: Any, archives: list[str]) -> zipfile.ZipInfo:
    """A folder file described like a zip member, so the same per-member checks apply."""
    info = zipfile.ZipInfo(name)
    info.file_size = info.compress_size = path.stat().st_size
    _check_member(info, name, limits, archives)
    return info
