"""The one gateway to external tools (ffmpeg, ffprobe, soffice, fpcalc; OCR is a library: pipelines/ocr/engine.py).

Every command: resolved binary (overridable by env var), argument list (never a
shell), a mandatory timeout, logged, and a typed error carrying stderr. Every ffmpeg
input and every ffprobe run gets the server's input guard (file protocol only, allowed
demuxers only: no playlist reaches outside the media roots), and a media file opened
once is handed to the tool as its descriptor (`/proc/self/fd/N`, see media/source.py).
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.errors import ToolError, ToolMissing, ToolTimeout
from pipelines.media.limits import input_guard

log = logging.getLogger(__name__)

ENV_OVERRIDES = {
    "ffmpeg": "LESSONQC_FFMPEG",
    "ffprobe": "LESSONQC_FFPROBE",
    "soffice": "LESSONQC_SOFFICE",
    "fpcalc": "LESSONQC_FPCALC",
}


def which(tool: str) -> str:
    """Absolute path of `tool`, honouring its LESSONQC_* env override."""
    override = os.environ.get(ENV_OVERRIDES.get(tool, ""), "")
    path = shutil.which(override or tool)
    if not path:
        raise ToolMissing(f"{tool} not found (install it, or set {ENV_OVERRIDES.get(tool, 'PATH')})")
    return path


@dataclass(frozen=True)
class ToolResult:
    """What a finished command returned."""

    returncode: int
    stdout: bytes
    stderr: str


FD_PATH = re.compile(r"^/proc/self/fd/(\d+)$")


def command(tool: str, args: Sequence[str]) -> list[str]:
    """The full argv for `tool` with `args` (no shell involved), media inputs guarded."""
    return [which(tool), *guarded(tool, [str(a) for a in args])]


def guarded(tool: str, args: list[str]) -> list[str]:
    """`args` with the input guard before every ffmpeg `-i` and at the head of an ffprobe run."""
    if tool == "ffprobe":
        return [*input_guard(), *args]
    if tool != "ffmpeg":
        return args
    out: list[str] = []
    for arg in args:
        if arg == "-i":
            out += input_guard()
        out.append(arg)
    return out


def passed_fds(args: Sequence[str]) -> tuple[int, ...]:
    """Descriptors named as `/proc/self/fd/N` in `args`: the child inherits them under the same number."""
    return tuple(int(m[1]) for a in args if (m := FD_PATH.match(str(a))))


def run(tool: str, args: Sequence[str], timeout: float, check: bool = True,
        stdin: bytes | None = None) -> ToolResult:
    """Run `tool args` to completion within `timeout` seconds."""
    cmd = command(tool, args)
    log.debug("run: %s", cmd)
    try:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, check=False,
                              pass_fds=passed_fds(cmd))
    except subprocess.TimeoutExpired as exc:
        raise ToolTimeout(f"{tool} timed out after {timeout:.0f}s", cmd, _text(exc.stderr)) from None
    result = ToolResult(proc.returncode, proc.stdout, _text(proc.stderr))
    if check and proc.returncode != 0:
        raise ToolError(f"{tool} exited with {proc.returncode}", cmd, result.stderr, proc.returncode)
    return result


def popen(tool: str, args: Sequence[str], **kwargs) -> subprocess.Popen:
    """Start `tool args` for streaming use; the caller owns the timeout (see `Watchdog`)."""
    cmd = command(tool, args)
    log.debug("popen: %s", cmd)
    return subprocess.Popen(cmd, pass_fds=passed_fds(cmd), **kwargs)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")
