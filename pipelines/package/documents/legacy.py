"""Legacy .doc/.ppt -> .docx/.pptx with LibreOffice headless (through tools.run, with a timeout).

Each conversion uses its own LibreOffice user profile inside the work folder, so parallel
conversions never share (or lock) one, and nothing is written in the user's home.
"""
from __future__ import annotations

from pathlib import Path

from pipelines import tools
from pipelines.errors import ToolError, ToolMissing
from pipelines.package.documents.model import DocumentUnreadable


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
