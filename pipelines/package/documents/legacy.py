"""Legacy .doc/.ppt -> .docx/.pptx with LibreOffice headless (through tools.run, with a timeout).

Each conversion uses its own LibreOffice user profile inside the work folder, so parallel
conversions never share (or lock) one, and nothing is written in the user's home.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipelines import tools
from pipelines.errors import ToolError, ToolMissing
from pipelines.package.documents import pdf
from pipelines.package.documents.model import DocumentUnreadable, PageView

log = logging.getLogger(__name__)


def office_view(path: Path, workdir: Path, cfg: Any) -> PageView | None:
    """An Office document laid out by LibreOffice as PDF pages (for evidence pictures); None when
    that cannot be done here (no LibreOffice, a failed conversion): findings then have no picture."""
    try:
        return pdf.open_view(convert(path, "pdf", workdir, cfg.libreoffice_timeout_s), cfg)
    except (DocumentUnreadable, OSError) as exc:
        log.info("no page pictures for %s: %s", path.name, exc)
        return None


def convert(path: Path, target: str, workdir: Path, timeout_s: float) -> Path:
    """`path` converted to format `target` (docx, pptx) under `workdir`; DocumentUnreadable with the reason."""
    outdir = workdir / "converted"
    profile = workdir / "soffice-profile"
    outdir.mkdir(parents=True, exist_ok=True)
    args = ["--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--convert-to", target, "--outdir", str(outdir), str(path)]
    try:
        tools.run("soffice", args, timeout=timeout_s)
    except ToolMissing:
        raise DocumentUnreadable(f"旧格式 {path.suffix} 无法转换：未安装 LibreOffice / legacy {path.suffix} "
                                 "cannot be converted: LibreOffice (soffice) is not installed") from None
    except ToolError as exc:
        raise DocumentUnreadable(f"旧格式 {path.suffix} 转换失败 / legacy {path.suffix} conversion failed: {exc}") from None
    out = outdir / f"{path.stem}.{target}"
    if not out.is_file():
        raise DocumentUnreadable(f"旧格式 {path.suffix} 无法转换（损坏或加密）/ legacy {path.suffix} could not be "
                                 "converted (corrupt or encrypted)")
    return out
