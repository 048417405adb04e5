"""Typed data passed between stages. The report (report.py) is the only serialisation boundary."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["fail", "review", "info"]
Verdict = Literal["pass", "review", "fail", "error"]
StageStatus = Literal["ok", "error", "skipped"]

SEVERITY_RANK = {"info": 0, "review": 1, "fail": 2}


@dataclass
class Finding:
    """One problem (or note) for a reviewer, optionally pinned to a time range."""

    code: str
    severity: Severity
    message: str
    start_s: float | None = None
    end_s: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def shifted(self, offset_s: float) -> "Finding":
        """The same finding with its times moved by `offset_s` (segment -> absolute time)."""
        return Finding(self.code, self.severity, self.message, _moved(self.start_s, offset_s),
                       _moved(self.end_s, offset_s), dict(self.evidence))


def _moved(t: float | None, offset_s: float) -> float | None:
    return None if t is None else round(t + offset_s, 3)


@dataclass
class VideoInfo:
    codec: str
    width: int
    height: int
    dar: str
    fps: float
    vfr: bool
    bit_rate: int | None
    pix_fmt: str
    scan: str  # "progressive" | "interlaced" | "unknown"
    stream: int | None = None  # the container's index of this stream (cover art skipped); not in report.json
    end_s: float | None = None  # where this stream ends (header or packets); not in report.json


@dataclass
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    bit_rate: int | None


@dataclass
class Media:
    container: str
    duration_s: float
    size_bytes: int
    bit_rate: int | None
    video: VideoInfo
    audio: AudioInfo | None


@dataclass
class TranscriptSegment:
    start_s: float
    end_s: float
    text: str
    lang: str

    def shifted(self, offset_s: float) -> "TranscriptSegment":
        return TranscriptSegment(round(self.start_s + offset_s, 3), round(self.end_s + offset_s, 3), self.text, self.lang)


@dataclass
class StageOutput:
    """What one analysis stage produced for one video (or one time segment of it)."""

    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    transcript: list[TranscriptSegment] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)  # name -> file path (thumbnails, sheets, srt)


@dataclass
class StageRun:
    """Status of a stage in the report."""

    status: StageStatus
    seconds: float
    error: str | None = None


def worst_verdict(findings: list[Finding], stages: dict[str, StageRun]) -> Verdict:
    """fail > review > pass; a stage that could not run makes it at least review."""
    if any(f.code == "input.unreadable" for f in findings):
        return "error"
    rank = max((SEVERITY_RANK[f.severity] for f in findings), default=0)
    if any(s.status == "error" for s in stages.values()):
        rank = max(rank, 1)
    return {0: "pass", 1: "review", 2: "fail"}[rank]


def to_jsonable(obj: Any) -> Any:
    """Dataclasses -> plain JSON-safe structures."""
    if hasattr(obj, "__dataclass_fields__"):
        return {k: to_jsonable(v) for k, v in asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, float):
        return round(obj, 4)
    return obj


PartStatus = Literal["ok", "missing", "unreadable", "unexpected"]


@dataclass
class PackagePart:
    """One file of a submission package (or a required part that is missing: file None)."""

    role: str | None           # 微课视频, 教学设计, ... ; None when it cannot be told
    file: str | None           # path inside the package
    format: str | None         # file suffix without the dot (docx, pptx, pdf, mp4, ...)
    pages: int | None          # pages or slides of a document; None for a video or an unread file
    status: PartStatus


@dataclass
class PackageSummary:
    """The report's `package` section: the category and its parts."""

    category: str
    parts: list[PackagePart] = field(default_factory=list)
