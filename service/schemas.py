"""Pydantic models: the API boundary (requests, answers, errors) and the OpenAPI document's schemas."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["pass", "review", "fail", "error"]
Status = Literal["queued", "running", "done", "error"]
Level = Literal["school", "county", "city", "province", "national"]
Text = Field(default=None, max_length=500)


class ErrorOut(BaseModel):
    code: str = Field(description="stable error code, e.g. media.path_refused")
    message: str


class Lesson(BaseModel):
    """The platform's lesson metadata (all optional)."""

    model_config = ConfigDict(extra="forbid")
    teacher: str | None = Text
    school: str | None = Text
    subject: str | None = Text
    grade: str | None = Text
    title: str | None = Field(default=None, max_length=500, description="课名")
    category: str | None = Field(default=None, max_length=500, description="学科课程 / 实验教学 / 特殊教育 / ...")


class JobCreate(BaseModel):
    """A job on a video already under the media roots (JSON body of POST /api/v1/jobs)."""

    model_config = ConfigDict(extra="forbid")
    media: str = Field(min_length=1, max_length=4096, description="path under a media root (absolute, or relative to the first root)")
    profile: str = Field(default="micro-primary", min_length=1, max_length=200)
    languages: list[str] = Field(default_factory=list, max_length=8, description="extra allowed languages, e.g. en")
    skip: list[str] = Field(default_factory=list, max_length=8, description="optional stages not to run")
    region: str | None = Field(default=None, max_length=200, description="e.g. 浙江省/杭州市/西湖区")
    callback_url: str | None = Field(default=None, max_length=2000)
    lesson: Lesson = Field(default_factory=Lesson)
    package_category: str | None = Field(
        default=None, max_length=50,
        description="the media is a submission package (folder or .zip: video + documents) of this category: "
                    "学科课程 / 特殊教育 / 实验教学 / 人工智能教育 / 阅读课")


class UploadForm(BaseModel):
    """Multipart form of POST /api/v1/jobs: the video in `file`, the other fields as in JobCreate
    (`languages`, `skip` comma-separated; lesson fields at the top level)."""

    file: bytes = Field(json_schema_extra={"format": "binary"})
    profile: str | None = None
    languages: str | None = None
    skip: str | None = None
    region: str | None = None
    callback_url: str | None = None
    teacher: str | None = None
    school: str | None = None
    subject: str | None = None
    grade: str | None = None
    title: str | None = None
    category: str | None = None
    package_category: str | None = None


class StageState(BaseModel):
    state: str = Field(description="queued | running | done | error | ok | skipped")
    queue: str | None = None
    seconds: float | None = None
    error: str | None = None


class JobSummary(BaseModel):
    id: str
    status: Status
    verdict: Verdict | None
    profile: str
    source: str
    region: str | None
    level: Level
    submitted_at: datetime
    finished_at: datetime | None
    codes: list[str] = Field(description="distinct finding codes of the report")
    lesson: Lesson


class JobDetail(JobSummary):
    media_sha256: str | None
    media_size: int | None
    stages: dict[str, StageState] = Field(description="state per stage (per task while running)")
    callback_state: str | None
    links: dict[str, str]


class JobCreated(BaseModel):
    id: str
    status: Status
    media_sha256: str | None = None
    media_size: int | None = None
    links: dict[str, str]


class JobPage(BaseModel):
    items: list[JobSummary]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class ReportPublished(BaseModel):
    """Body of the `report.published` webhook."""

    event: Literal["report.published"]
    job_id: str
    verdict: Verdict
    codes: list[str] = Field(description="distinct finding codes, in report order")
    source: str
    profile: str
    created_at: str
    report_url: str


class ReviewDecided(BaseModel):
    """Body of the `review.decided` webhook."""

    event: Literal["review.decided"]
    job_id: str
    decision: DecisionOut
    decisions_url: str


class WebhookSecrets(BaseModel):
    subscriber: str = Field(description="the API token name whose jobs' events these secrets sign")
    secrets: list[str] = Field(description="live secrets (whsec_...), newest first; two during a rotation")


class DeliveryOut(BaseModel):
    """One webhook event for one subscriber and where its delivery stands."""

    id: int
    event_id: str = Field(description="the webhook-id header: the same on every attempt and redelivery")
    event_type: Literal["report.published", "review.decided"]
    job_id: str
    subscriber: str
    url: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None = Field(description="HTTP status of the last answer (None: no answer)")
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryDetail(DeliveryOut):
    body: str = Field(description="the exact JSON body sent on every attempt")
    attempts_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next (older) page; None: last page")


class FindingReviewOut(BaseModel):
    seq: int = Field(description="the finding's index in the report's findings")
    status: Literal["confirmed", "dismissed"]
    note: str
    reviewer: str


class DecisionOut(BaseModel):
    id: int
    level: Level
    action: Literal["pass", "return", "reject"] = Field(description="pass: forwarded to next_level; return: to the teacher")
    reason: str
    reviewer: str
    decided_at: datetime
    next_level: Level | None
    findings: list[FindingReviewOut] = Field(description="the level's finding reviews in force when it decided")


class Decisions(BaseModel):
    job_id: str
    level: Level = Field(description="the level the lesson is at now")
    decisions: list[DecisionOut] = Field(description="every decision, oldest first (append-only)")


class Health(BaseModel):
    status: Literal["ok"]
    database: str
    redis: str


class Artifacts(BaseModel):
    files: list[str]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for error statuses (all {code, message})."""
    return {s: {"model": ErrorOut, "description": "error"} for s in statuses}
