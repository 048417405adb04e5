"""What the lesson page shows: metadata, findings with reviews, transcript, OCR/QR text, contact sheet,
and the other lessons it matches (originality), side by side where the reviewer may see the other one."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from index import decisions as records
from index import prints
from index.models import LEVELS, Finding, Job, Lesson
from index.review import Decision, FindingReview, User
from pipelines.report.readable import VIDEO_BESIDE

from . import queue

ONSCREEN_PREFIXES = ("text.", "intro.", "doc.")


@dataclass(frozen=True)
class OnScreenText:
    """Text read on screen (OCR) or a QR/bar code payload, with when it was seen."""

    code: str
    start_s: float | None
    text: str
    kind: str            # "ocr" | "qr" | a barcode type


@dataclass(frozen=True)
class EarlierReview:
    """What an earlier level did to a finding: its review in force when that level moved on."""

    level: str
    status: str
    reviewer: str        # display name
    note: str


@dataclass(frozen=True)
class InfoGroup:
    """提示 findings of one code, shown collapsed with one bulk dismiss."""

    code: str
    findings: list[Finding]


@dataclass(frozen=True)
class MatchRow:
    """One match of the lesson, told from its side (index/prints.py), and what the reviewer may do with the
    other lesson: `visible` (queue.visible: their level and region) shows its link and, with both ranges
    and both videos present, the two players side by side; otherwise its metadata and ranges only."""

    match: prints.Match
    visible: bool
    playable: bool

    @property
    def paired(self) -> bool:
        m = self.match
        return self.playable and None not in (m.start_s, m.end_s, m.other_start_s, m.other_end_s)


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
    names: dict[str, str] = field(default_factory=dict)        # user name -> display name
    earlier: dict[int, list[EarlierReview]] = field(default_factory=dict)
    matches: list[MatchRow] = field(default_factory=list)

    def name(self, user: str) -> str:
        return self.names.get(user) or user

    @property
    def main_findings(self) -> list[Finding]:
        """Findings shown one card each: every fail/review finding, and info findings of a code seen once."""
        grouped = {g.code for g in self.info_groups}
        return [f for f in self.findings if not (f.severity == "info" and f.code in grouped)]

    @property
    def info_groups(self) -> list[InfoGroup]:
        """Info findings of a code that occurs more than once, grouped per code (report order)."""
        groups: dict[str, list[Finding]] = {}
        for f in self.findings:
            if f.severity == "info":
                groups.setdefault(f.code, []).append(f)
        return [InfoGroup(code, items) for code, items in groups.items() if len(items) > 1]

    @property
    def reviewed(self) -> int:
        return sum(1 for f in self.findings if f.seq in self.reviews)

    @property
    def unreviewed_fails(self) -> int:
        return sum(1 for f in self.findings if f.severity == "fail" and f.seq not in self.reviews)

    @property
    def earlier_decisions(self) -> list[Decision]:
        """Decisions of earlier levels (or earlier rounds) that give a reason, oldest first."""
        return [d for d in self.decisions if d.reason and d.action in records.ACTIONS]


def load(session: Session, job: Job, extras: bool = True, viewer: User | None = None) -> LessonView:
    """Everything the page needs about one job: index rows plus the published report's extras (transcript,
    on-screen text, contact sheets, media, and the matches as `viewer` may see them; `extras=False`: the
    index rows only, for the parts an action changes)."""
    log = records.finding_reviews_of(session, job.id)
    doc = read_report(job) if extras else {}
    view = LessonView(job, job.lesson, job.findings, records.latest_reviews(log, job.level),
                      records.decisions_of(session, job.id), log)
    view.transcript = [s for s in doc.get("transcript") or [] if isinstance(s, dict)]
    view.onscreen = onscreen_texts(job.findings)
    view.contact_sheets = [p for k, p in sorted(((doc.get("metrics") or {}).get("artifacts") or {}).items())
                           if "contact_sheet" in k and isinstance(p, str)]
    view.media = doc.get("media") or {}
    view.has_video = _has_video(job)
    view.names = display_names(session, {r.reviewer for r in log} | {d.reviewer for d in view.decisions})
    view.earlier = earlier_reviews(log, job.level, view.names)
    view.matches = matches(session, viewer, job) if extras and viewer is not None else []
    return view


def matches(session: Session, viewer: User, job: Job) -> list[MatchRow]:
    """The job's matches in both directions, each with whether `viewer` may see (and play) the other lesson."""
    rows = []
    for m in prints.matches_seen_from(session, job.id):
        other = queue.visible(session, viewer, m.other_job_id) if m.other_indexed else None
        playable = other is not None and _has_video(job) and _has_video(other)
        rows.append(MatchRow(m, other is not None, playable))
    return rows


def _has_video(job: Job) -> bool:
    return bool(job.media_path) and Path(job.media_path).is_file()


def display_names(session: Session, names: set[str]) -> dict[str, str]:
    """Display names of the users among `names` that have one."""
    if not names:
        return {}
    rows = session.execute(select(User.name, User.display_name).where(User.name.in_(names)))
    return {name: shown for name, shown in rows if shown}


def earlier_reviews(log: Sequence[FindingReview], level: str, names: dict[str, str]) -> dict[int, list[EarlierReview]]:
    """Per finding, each other level's review in force (levels in review order)."""
    out: dict[int, list[EarlierReview]] = {}
    for other in LEVELS:
        if other == level:
            continue
        for seq, r in sorted(records.latest_reviews(log, other).items()):
            out.setdefault(seq, []).append(EarlierReview(other, r.status, names.get(r.reviewer) or r.reviewer, r.note))
    return out


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
    """A file inside the job's published report folder (None for anything outside it or missing);
    `video` beside the report is the job's media (the farm's report.html names its video so)."""
    if not job.report_dir:
        return None
    root = Path(job.report_dir).resolve()
    path = (root / relative).resolve()
    if relative == VIDEO_BESIDE and not path.exists() and job.media_path and Path(job.media_path).is_file():
        return Path(job.media_path)
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
