"""What the lesson page shows: metadata, findings with reviews, transcript, OCR/QR text, contact sheet."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy.orm import Session

from index import decisions as records
from index.models import Finding, Job, Lesson
from index.review import Decision, FindingReview

ONSCREEN_PREFIXES = ("text.", "intro.", "doc.")


@dataclass(frozen=True)
class OnScreenText:
    """Text read on screen (OCR) or a QR/bar code payload, with when it was seen."""

    code: str
    start_s: float | None
    text: str
    kind: str            # "ocr" | "qr" | a barcode type


@dataclass
class LessonView:
    job: Job
    lesson: Lesson | None
    findings: Sequence[Finding]
    reviews: dict[int, FindingReview]          # in force at the job's current level
    decisions: Sequence[Decision]
    review_log: Sequence[FindingReview]
    transcript: list[dict[str, Any]] = field(default_factory=list)
    onscreen: list[OnScreenText] = field(default_factory=list)
    contact_sheets: list[str] = field(default_factory=list)   # report-relative paths
    media: dict[str, Any] = field(default_factory=dict)
    has_video: bool = False


def load(session: Session, job: Job) -> LessonView:
    """Everything the page needs about one job: index rows plus the published report's extras."""
    log = records.finding_reviews_of(session, job.id)
    doc = read_report(job)
    view = LessonView(job, job.lesson, job.findings, records.latest_reviews(log, job.level),
                      records.decisions_of(session, job.id), log)
    view.transcript = [s for s in doc.get("transcript") or [] if isinstance(s, dict)]
    view.onscreen = onscreen_texts(job.findings)
    view.contact_sheets = [p for k, p in sorted(((doc.get("metrics") or {}).get("artifacts") or {}).items())
                           if "contact_sheet" in k and isinstance(p, str)]
    view.media = doc.get("media") or {}
    view.has_video = bool(job.media_path) and Path(job.media_path).is_file()
    return view


def read_report(job: Job) -> dict[str, Any]:
    """The published report.json of a job ({} when missing or unreadable: the page still shows the index)."""
    if not job.report_dir:
        return {}
    try:
        doc = json.loads((Path(job.report_dir) / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def onscreen_texts(findings: Sequence[Finding]) -> list[OnScreenText]:
    """OCR text and code payloads carried by on-screen findings' evidence, in report order."""
    out: list[OnScreenText] = []
    for f in findings:
        evidence = f.evidence or {}
        for code in evidence.get("codes") or []:
            if isinstance(code, dict):
                out.append(OnScreenText(f.code, f.start_s, str(code.get("payload") or "（无法解码）"),
                                        str(code.get("kind") or "qr")))
        if f.code.startswith(ONSCREEN_PREFIXES) and isinstance(evidence.get("text"), str) and not evidence.get("codes"):
            out.append(OnScreenText(f.code, f.start_s, evidence["text"], "ocr"))
    return out


def thumbnail(finding: Finding) -> str | None:
    """The report-relative path of a finding's thumbnail, if it has one."""
    path = (finding.evidence or {}).get("thumbnail")
    return path if isinstance(path, str) and path else None


def report_file(job: Job, relative: str) -> Path | None:
    """A file inside the job's published report folder (None for anything outside it or missing)."""
    if not job.report_dir:
        return None
    root = Path(job.report_dir).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
