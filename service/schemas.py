"""Pydantic models: the API boundary (requests, answers, errors) and the OpenAPI document's schemas."""
from __future__ import annotations

from datetime import datetime
import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pipelines.selection.metadata import MAX_CHARS, NODE_MAX_CHARS, NODE_PARTS, MetadataInvalid, checked_text

Verdict = Literal["pass", "review", "fail", "error"]
Status = Literal["queued", "running", "done", "error"]
Level = Literal["school", "county", "city", "province", "national"]


class Problem(BaseModel):
    """An error: RFC 9457 problem details (application/problem+json) with a stable `code`."""

    type: str = Field(default="about:blank")
    title: str = Field(description="the HTTP status phrase")
    status: int
    detail: str = Field(description="what went wrong, naming the submitted reference (never a server path)")
    code: str = Field(description="stable error code, e.g. media.path_refused")


def _plain_text(value: str | None) -> str | None:
    """No control characters (checked as pipelines.selection.metadata does for the CLI and the farm)."""
    if value is not None:
        try:
            checked_text("value", value, len(value))
        except MetadataInvalid:
            raise ValueError("control characters are not allowed") from None
    return value


PlainText = Annotated[str | None, AfterValidator(_plain_text)]


def _text(max_chars: int, description: str | None = None) -> Any:
    return Field(default=None, max_length=max_chars, description=description)


def _part(description: str) -> Any:
    return Field(min_length=1, max_length=NODE_MAX_CHARS, description=description)


NodePart = Annotated[str, AfterValidator(_plain_text)]


class Node(BaseModel):
    """A catalogue node: (学段, 学科, 教材版本, 册次, 单元, 课), every part given."""

    model_config = ConfigDict(extra="forbid")
    stage: NodePart = _part("学段, e.g. 小学 / 初中")
    subject: NodePart = _part("学科, e.g. 数学")
    edition: NodePart = _part("教材版本, e.g. 人教版")
    volume: NodePart = _part("册次, e.g. 三年级上册")
    unit: NodePart = _part("单元, e.g. 第八单元 分数的初步认识")
    lesson: NodePart = _part("课, e.g. 分数的初步认识")


class Lesson(BaseModel):
    """The platform's lesson metadata (all optional): the title card's fields and the catalogue node.
    The node is checked against the open catalogue (selection.node_unknown) and keys selection.same_node;
    the title card is compared with the fields (intro.metadata_mismatch)."""

    model_config = ConfigDict(extra="forbid")
    teacher: PlainText = _text(MAX_CHARS["teacher"], "主讲教师")
    school: PlainText = _text(MAX_CHARS["school"])
    subject: PlainText = _text(MAX_CHARS["subject"], "学科")
    grade: PlainText = _text(MAX_CHARS["grade"], "年级, e.g. 三年级 / 初一")
    title: PlainText = _text(MAX_CHARS["title"], "课名")
    category: PlainText = _text(MAX_CHARS["category"], "学科课程 / 实验教学 / 特殊教育 / ...")
    node: Node | None = None


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


class FormInvalid(ValueError):
    """An upload form field that cannot be read as its JSON counterpart (the message says which)."""


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
    node: str | None = Field(default=None, description="the catalogue node as 学段/学科/教材版本/册次/单元/课")
    package_category: str | None = None

    def job(self) -> JobCreate:
        """The same submission as a JSON body (validated by JobCreate: ValidationError when wrong); a
        `profile` that starts with `{` is an inline profile in JSON."""
        given: dict[str, Any] = {k: v for k, v in self.model_dump().items() if v}
        if given.get("profile", "").lstrip().startswith("{"):
            given["profile"] = json.loads(given["profile"])
        lesson = {k: given.pop(k) for k in list(given) if k in Lesson.model_fields}
        if "node" in lesson:
            parts = [p.strip() for p in lesson["node"].split("/")]
            if len(parts) != len(NODE_PARTS):
                raise FormInvalid("node: six parts separated by / expected: 学段/学科/教材版本/册次/单元/课")
            lesson["node"] = dict(zip(NODE_PARTS, parts))
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
    cursor: str | None = Field(default=None, max_length=400,
                               description="next_cursor of the previous page (the Link rel=next header carries it)")
    total: bool = Field(default=False, description="also count every matching job (a COUNT: not free on a large index)")


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
    """One page of jobs, newest first; follow `next_cursor` (or the Link header) for the next one."""

    items: list[JobSummary]
    limit: int
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; None: this is the last page")
    total: int | None = Field(description="jobs matching the filters, when asked with total=true")


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
