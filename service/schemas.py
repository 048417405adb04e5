"""Pydantic models: the API boundary (requests, answers, errors) and the OpenAPI document's schemas."""
from __future__ import annotations

from datetime import datetime
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["pass", "review", "fail", "error"]
Status = Literal["queued", "running", "done", "error"]
Level = Literal["school", "county", "city", "province", "national"]
Text = Field(default=None, max_length=500)


class Problem(BaseModel):
    """An error: RFC 9457 problem details (application/problem+json) with a stable `code`."""

    type: str = Field(default="about:blank")
    title: str = Field(description="the HTTP status phrase")
    status: int
    detail: str = Field(description="what went wrong, naming the submitted reference (never a server path)")
    code: str = Field(description="stable error code, e.g. media.path_refused")


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
    profile: Annotated[str, Field(min_length=1, max_length=200)] | dict[str, Any] = Field(
        default="micro-primary",
        description="a built-in profile's name (never a path), or a profile inline: a mapping of the keys a "
                    "profile file holds, validated the same way")
    languages: list[str] = Field(default_factory=list, max_length=8, description="extra allowed languages, e.g. en")
    skip: list[str] = Field(default_factory=list, max_length=8, description="optional stages not to run")
    region: str | None = Field(default=None, max_length=200, description="e.g. 浙江省/杭州市/西湖区")
    callback_url: str | None = Field(default=None, max_length=2000)
    lesson: Lesson = Field(default_factory=Lesson)
    package_category: str | None = Field(
        default=None, max_length=50,
        description="the media is a submission package (folder or .zip: video + documents) of this category: "
                    "学科课程 / 特殊教育 / 实验教学 / 人工智能教育 / 阅读课")


class UploadFields(BaseModel):
    """The text fields of an upload's multipart form (`languages`, `skip` comma-separated; lesson fields at
    the top level); an unknown field is refused."""

    model_config = ConfigDict(extra="forbid")
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

    def job(self) -> JobCreate:
        """The same submission as a JSON body (validated by JobCreate: ValidationError when wrong); a
        `profile` that starts with `{` is an inline profile in JSON."""
        given: dict[str, Any] = {k: v for k, v in self.model_dump().items() if v}
        if given.get("profile", "").lstrip().startswith("{"):
            given["profile"] = json.loads(given["profile"])
        lesson = {k: given.pop(k) for k in list(given) if k in Lesson.model_fields}
        for key in ("languages", "skip"):
            if key in given:
                given[key] = [v.strip() for v in given[key].split(",") if v.strip()]
        return JobCreate.model_validate({**given, "media": "upload", "lesson": lesson})


class UploadForm(UploadFields):
    """Multipart form of POST /api/v1/jobs: the video in `file`, the other fields as in JobCreate."""

    file: bytes = Field(json_schema_extra={"format": "binary"})


class JobQuery(BaseModel):
    """GET /api/v1/jobs: filters (None: any) and paging."""

    verdict: Verdict | None = None
    code: str | None = Field(default=None, max_length=64)
    status: Status | None = None
    profile: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=200, description="matches itself and sub-regions")
    level: Level | None = None
    submitted_after: datetime | None = None
    submitted_before: datetime | None = None
    limit: int | None = Field(default=None, ge=1)
    offset: int = Field(default=0, ge=0, le=10_000_000)


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


class FindingReviewOut(BaseModel):
    seq: int = Field(description="the finding's index in the report's findings")
    status: Literal["confirmed", "dismissed"]
    note: str
    reviewer: str


class DecisionOut(BaseModel):
    id: int
    level: Level
    action: Literal["pass", "return", "reject", "withdraw"] = Field(
        description="pass: forwarded to next_level; return: to the teacher; withdraw: the level took its previous "
                    "decision back (a withdrawn pass brings the lesson back to that level)")
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
    """OpenAPI `responses` entries for error statuses (all problem details)."""
    return {s: {"model": Problem, "description": "problem details"} for s in statuses}
