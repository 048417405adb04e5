"""What is kept of a job's files: its upload lives in <first media root>/<uploads>/<job id>/ and goes
when the job is deleted (service.retention) or when the farm found it unreadable (not a video)."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from . import paths, serviceconfig

UNREADABLE = "input.unreadable"


def upload_folder(job_id: str) -> Path | None:
    """Where an upload of `job_id` is stored (None without media roots)."""
    roots = paths.media_roots()
    return roots[0] / serviceconfig.load().uploads.folder / job_id if roots else None


def remove_upload(job_id: str, media: Path) -> bool:
    """Remove the job's own upload folder when `media` lies in it; a media reference elsewhere is never touched."""
    folder = upload_folder(job_id)
    if folder is None or not media.is_relative_to(folder):
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True


def unreadable(doc: dict[str, Any]) -> bool:
    """The report says the input was not a readable video (a text file, a 0-byte or truncated upload)."""
    return doc.get("verdict") == "error" and any(f.get("code") == UNREADABLE for f in doc.get("findings") or [])
