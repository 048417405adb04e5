"""Package jobs in the farm: the package steps of pipelines/package/check.py around the video's tasks.

The probe step unpacks the package into a folder of its own run (inside the job's shared work folder;
the first run to store its entry is the one the tasks read) and probes its video;
each document becomes a task of its own (stage `package`, the ocr queue by default); the
report step assembles the video as usual and then finishes the package section. The job
state's probe entry carries the manifest (`package`) and, when the video could not be
probed, `video_error`.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines import assemble
from pipelines.domain import PackageSummary, StageRun
from pipelines.errors import InputUnreadable
from pipelines.media import source as sources
from pipelines.media.probe import probe
from pipelines.package import check as packages
from pipelines.package.archive import PackageRefused
from pipelines.plan import Part, Task
from pipelines.profile import Profile
from pipelines.report.document import Report

from . import codec

STAGE = packages.STAGE
PREFIX = "doc@"


def prepare(source: Path, category: str, profile: Profile, workdir: Path, roots: Sequence[Path] = ()) -> dict[str, Any]:
    """The job's probe entry: the manifest, and the video's probe (or why it failed), the video opened once
    (confined to `roots`), the package unpacked into `workdir` (empty: this run's own). PackageRefused
    propagates (the job ends with an error report)."""
    workdir.mkdir(parents=True, exist_ok=True)
    manifest = packages.prepare(source, category, profile, workdir)
    doc: dict[str, Any] = {"package": manifest.to_dict()}
    if manifest.video is not None:
        started = time.monotonic()
        try:
            with sources.opened(manifest.video.path, roots) as video:
                doc.update(codec.probe_to_dict(probe(video, profile), StageRun("ok", time.monotonic() - started)))
        except InputUnreadable as exc:
            doc["video_error"] = str(exc)
    return doc


def manifest(doc: dict[str, Any]) -> packages.Manifest:
    return packages.Manifest.from_dict(doc["package"])


def video_path(doc: dict[str, Any]) -> Path:
    """The unpacked video of a package job."""
    video = manifest(doc).video
    if video is None:
        raise InputUnreadable("the package has no video")
    return video.path


def document_tasks(doc: dict[str, Any], queue: str) -> list[Task]:
    """One task per document of the package."""
    return [Task(f"{PREFIX}{i}", queue, (STAGE,)) for i in range(len(doc["package"]["documents"]))]


def is_document(task: Task) -> bool:
    return task.stages[0] == STAGE


def run_document(task: Task, doc: dict[str, Any], category: str, profile: Profile, workdir: Path) -> Part:
    """Check one document; its part carries the document's output under stage `package`."""
    index = int(task.key.removeprefix(PREFIX))
    started = time.monotonic()
    output = packages.check_document(manifest(doc).documents[index], category, profile, workdir)
    return Part({STAGE: StageRun("ok", time.monotonic() - started)}, {STAGE: output})


def finish(report: Report, doc: dict[str, Any], parts: list[Part], profile: Profile) -> None:
    """The package section from the document parts (a failed one has no output)."""
    if doc.get("video_error"):
        report.findings.append(assemble.unreadable(doc["video_error"]))
    packages.finish(report, manifest(doc), [p.outputs.get(STAGE) for p in parts], profile)


def refused_report(report: Report, exc: PackageRefused, category: str) -> Report:
    """The error report of a package refused whole."""
    report.package = PackageSummary(category)
    report.findings.append(packages.refused(exc))
    return report
