"""ORM models of the index (SQLAlchemy 2 typed declarative). Change them only with a migration."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Review levels, lowest first (SPEC "Review workflow"); a job enters at the first.
LEVELS = ("school", "county", "city", "province", "national")
LEVEL_NAMES = {"school": "学校推荐", "county": "县级初选", "city": "市级遴选", "province": "省级遴选", "national": "部级遴选"}
STATUSES = ("queued", "running", "done", "error")
NODE_PARTS = ("stage", "subject", "edition", "volume", "unit", "lesson")  # 学段 学科 教材版本 册次 单元 课


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    """Base of every index table (the console's users and decisions too)."""


class Job(Base):
    """One submitted video: what was asked, where it is, its state and verdict, its review place."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(Text)                    # as submitted (the report's `source`)
    media_path: Mapped[str | None] = mapped_column(Text)         # resolved path under a media root
    media_sha256: Mapped[str | None] = mapped_column(String(64))  # uploads: checksum of the stored file
    media_size: Mapped[int | None] = mapped_column(Integer)
    profile: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    verdict: Mapped[str | None] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(200))      # 浙江省/杭州市/西湖区 (prefix filters)
    level: Mapped[str] = mapped_column(String(16), default=LEVELS[0])
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_dir: Mapped[str | None] = mapped_column(Text)
    stages: Mapped[dict[str, Any] | None] = mapped_column(JSON)   # report's stages {name: {status, seconds, error}}
    submitted_by: Mapped[str | None] = mapped_column(String(100))  # API token name
    callback_url: Mapped[str | None] = mapped_column(Text)
    callback_state: Mapped[str | None] = mapped_column(String(16))  # pending | delivered | failed
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0)
    callback_error: Mapped[str | None] = mapped_column(Text)
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)      # the farm's job spec (None: rows before 0003)
    profile_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"name", "data"} validated at submit
    recoveries: Mapped[int] = mapped_column(Integer, default=0)    # times re-created after the queue lost it
    duration_s: Mapped[float | None] = mapped_column(Float)        # the report's media duration (None before 0005)
    review_version: Mapped[int] = mapped_column(Integer, default=0)  # +1 per decision (the conditional write's check)

    lesson: Mapped[Lesson | None] = relationship(back_populates="job", uselist=False, cascade="all, delete-orphan",
                                                  lazy="joined")
    findings: Mapped[list[Finding]] = relationship(back_populates="job", cascade="all, delete-orphan",
                                                   order_by="Finding.seq")

    __table_args__ = (
        Index("ix_jobs_submitted", "submitted_at", "id"),
        Index("ix_jobs_status", "status"),
        Index("ix_jobs_verdict", "verdict"),
        Index("ix_jobs_profile", "profile"),
        Index("ix_jobs_region", "region"),
        Index("ix_jobs_level_region", "level", "region"),
    )


class Lesson(Base):
    """The platform's lesson metadata of a job (one row per job)."""

    __tablename__ = "lessons"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    teacher: Mapped[str | None] = mapped_column(String(200))
    school: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(100))
    grade: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(500))     # 课名
    category: Mapped[str | None] = mapped_column(String(100))  # 学科课程 / 实验教学 / ...
    # The catalogue node (学段, 学科, 教材版本, 册次, 单元, 课): all set or all None (rows before 0009: None).
    node_stage: Mapped[str | None] = mapped_column(String(100))
    node_subject: Mapped[str | None] = mapped_column(String(100))
    node_edition: Mapped[str | None] = mapped_column(String(100))
    node_volume: Mapped[str | None] = mapped_column(String(100))
    node_unit: Mapped[str | None] = mapped_column(String(100))
    node_lesson: Mapped[str | None] = mapped_column(String(100))
    node_key: Mapped[str | None] = mapped_column(String(700))  # the six parts compared (selection.same_node)

    job: Mapped[Job] = relationship(back_populates="lesson")

    __table_args__ = (Index("ix_lessons_node_key", "node_key"),)


class Finding(Base):
    """One finding of a published report; (job_id, seq) is the report's order, unique."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    start_s: Mapped[float | None] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    job: Mapped[Job] = relationship(back_populates="findings")

    __table_args__ = (
        Index("ux_findings_job_seq", "job_id", "seq", unique=True),
        Index("ix_findings_code_job", "code", "job_id"),
    )


class ApiToken(Base):
    """A bearer token of the HTTP API: only its sha256 is kept; revoked tokens stay for the record."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[str] = mapped_column(String(100), default="submit read")  # space-separated, of SCOPES
    region: Mapped[str | None] = mapped_column(String(200))  # None: every region; else itself and below

    __table_args__ = (Index("ix_api_tokens_name", "name"),)


class IdempotencyKey(Base):
    """An `Idempotency-Key` a caller sent with POST /jobs: the request it stood for and the job it made."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    caller: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the request (fields and media)
    job_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ux_idempotency_caller_key", "caller", "key", unique=True),)


class WebhookSecret(Base):
    """A subscriber's signing secret (`whsec_…`). Kept in clear, as it must sign; a rotated-out secret
    stays valid (and signs too) until `expires_at`."""

    __tablename__ = "webhook_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber: Mapped[str] = mapped_column(String(100))
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_webhook_secrets_subscriber", "subscriber"),)


class WebhookDelivery(Base):
    """One event for one subscriber: its fixed id and body, and where its delivery stands."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)  # the webhook-id header
    event_type: Mapped[str] = mapped_column(String(32))            # report.published | review.decided
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    subscriber: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)                        # the exact JSON sent on every attempt
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)       # HTTP status of the last answer
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_webhook_deliveries_job", "job_id"),
                      Index("ix_webhook_deliveries_subscriber", "subscriber", "id"))


class WebhookAttempt(Base):
    """One POST of a delivery: when, the answer's status or the error, how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id"),)
