"""The report store: one folder per job under LESSONQC_REPORT_DIR, published atomically.

A report (report.json + report.html + thumbs/) is written into a hidden staging
folder and renamed to `<root>/<job_id>` in one step, so readers see a whole
report or none, and a second writer for the same job (a redelivered message)
loses the rename and leaves the first report alone. Stage scratch files that
must be shared between workers live in `<root>/.work/<job_id>/` until then.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pipelines.errors import LessonQCError
from pipelines.report import document as reports
from pipelines.report.document import Report
from pipelines.report.readable import VIDEO_BESIDE

log = logging.getLogger(__name__)
WORK = ".work"
JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
TASK_KEY = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


class BadJobId(LessonQCError):
    """A job id that is not a plain name (it would be joined to a folder path)."""


def checked_id(job_id: str) -> str:
    """`job_id` when it is a plain name (letters, digits, - and _; at most 64), else BadJobId."""
    if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
        raise BadJobId(f"invalid job id {job_id!r}: use letters, digits, '-' and '_' (at most 64)")
    return job_id


def job_dir(root: Path, job_id: str) -> Path:
    return root / checked_id(job_id)


def work_dir(root: Path, job_id: str, task_key: str = "") -> Path:
    """Shared scratch folder of a job (or one of its tasks), created on demand."""
    if task_key and (not TASK_KEY.fullmatch(task_key) or task_key.strip(".") == ""):
        raise BadJobId(f"invalid task key {task_key!r}")
    folder = root / WORK / checked_id(job_id) / task_key.replace("@", "-")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_dir(root: Path, job_id: str, task_key: str) -> Path:
    """A scratch folder of its own for one run of a task, inside the task's: two runs of the same task at once
    (a redelivery while the first still runs: its host cut off, a retry, the requeue after a Redis outage)
    must not rewrite each other's files. Seen across hosts: the redo's audio extraction truncated the wav
    the first run was reading, which then ended the job as `input.unreadable` (an empty file)."""
    return Path(tempfile.mkdtemp(prefix="run-", dir=work_dir(root, job_id, task_key)))


def publish(report: Report, root: Path) -> tuple[Path, bool]:
    """Write `report` to `<root>/<job_id>` atomically; return (folder, whether this call published it)."""
    final = job_dir(root, report.job_id)
    if final.exists():
        return final, False
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{checked_id(report.job_id)}.", dir=root))
    try:
        reports.write(report, staging, video_src=VIDEO_BESIDE)
        os.chmod(staging, 0o755)
        os.rename(staging, final)
    except OSError:
        if not final.exists():
            raise
        log.info("report %s was already published; keeping the first", report.job_id)
        return final, False
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final, True


def read(root: Path, job_id: str) -> dict[str, Any] | None:
    """The published report.json of `job_id`, or None when there is none yet."""
    path = job_dir(root, job_id) / "report.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def cleanup(root: Path, job_id: str) -> None:
    """Drop the job's shared scratch folder (after its report is published)."""
    shutil.rmtree(root / WORK / checked_id(job_id), ignore_errors=True)
