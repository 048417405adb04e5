"""The report: the only serialisation boundary. Built from typed stage outputs,
validated against report/schema.json, written atomically (json + html + thumbnails).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from pipelines.domain import Finding, Media, PackageSummary, StageRun, TranscriptSegment, to_jsonable, worst_verdict
from pipelines.selection.metadata import LessonMeta

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"
THUMBS_DIR = "thumbs"
# Artifacts a reviewer opens (pictures, subtitles); stage-internal files (e.g. merge state) stay out.
PUBLISHED_SUFFIXES = (".jpg", ".jpeg", ".png", ".srt", ".vtt", ".print.npz")  # .print.npz: fingerprints (originality)


@dataclass
class Report:
    """Everything known about one pre-screened video."""

    job_id: str
    source: str
    profile: str
    media: Media | None = None
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    transcript: list[TranscriptSegment] = field(default_factory=list)
    stages: dict[str, StageRun] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    package: PackageSummary | None = None  # a package check only (SPEC "Package report")
    lesson: LessonMeta | None = None       # the submission's metadata, when it gave any (report.json `lesson`)
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def verdict(self) -> str:
        return worst_verdict(self.findings, self.stages)

    def sorted_findings(self) -> list[Finding]:
        """Worst first, then by time."""
        rank = {"fail": 0, "review": 1, "info": 2}
        return sorted(self.findings, key=lambda f: (f.code != "input.unreadable", rank[f.severity],
                                                     f.start_s if f.start_s is not None else -1, f.code))


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def to_dict(report: Report) -> dict[str, Any]:
    """The report.json document (SPEC.md schema_version 1), validated."""
    metrics = dict(report.metrics)
    if report.artifacts:
        metrics["artifacts"] = dict(report.artifacts)
    doc = {
        "schema_version": "1", "job_id": report.job_id, "source": report.source, "profile": report.profile,
        "verdict": report.verdict, "media": _public_media(report.media),
        "findings": to_jsonable(report.sorted_findings()), "metrics": to_jsonable(metrics),
        "transcript": to_jsonable(report.transcript), "stages": to_jsonable(report.stages),
        "created_at": report.created_at,
    }
    if report.package is not None:
        doc["package"] = to_jsonable(report.package)
    if report.lesson is not None and not report.lesson.is_empty():
        doc["lesson"] = report.lesson.to_dict()
    validate(doc)
    return doc


def _public_media(media: Media | None) -> dict[str, Any] | None:
    """report.json's `media`: SPEC's keys only (stream index and end stay internal)."""
    doc = to_jsonable(media)
    if doc is not None:
        doc["video"].pop("stream", None)
        doc["video"].pop("end_s", None)
    return doc


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def validate(doc: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when `doc` breaks the report contract."""
    _validator().validate(doc)


def collect_files(report: Report, out_dir: Path) -> None:
    """Copy thumbnails and artifacts beside the report; rewrite their paths relative to it."""
    thumbs = out_dir / THUMBS_DIR
    for f in report.findings:
        src = f.evidence.get("thumbnail")
        if src and Path(src).is_file() and not _inside(Path(src), out_dir):
            f.evidence["thumbnail"] = _copy(Path(src), thumbs)
    for name, src in list(report.artifacts.items()):
        if not src.lower().endswith(PUBLISHED_SUFFIXES):
            del report.artifacts[name]
        elif Path(src).is_file() and not _inside(Path(src), out_dir):
            report.artifacts[name] = _copy(Path(src), out_dir / "artifacts")


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _copy(src: Path, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / src.name
    shutil.copy2(src, dest)
    return f"{folder.name}/{src.name}"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` via a temp file and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(report: Report, out_dir: Path, video_src: str | None = None) -> dict[str, Path]:
    """Write report.json and report.html (self-contained) into `out_dir`; return their paths.
    `video_src` names the page's video relative to it (the farm: `video`, served beside the report)."""
    from pipelines.report.page import render  # local import: html rendering is only needed when writing

    out_dir.mkdir(parents=True, exist_ok=True)
    collect_files(report, out_dir)
    doc = to_dict(report)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    write_atomic(json_path, json.dumps(doc, ensure_ascii=False, indent=2))
    write_atomic(html_path, render(doc, out_dir, video_src))
    return {"json": json_path, "html": html_path}
