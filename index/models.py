"""ORM models of the index (SQLAlchemy 2 typed declarative). Change them only with a migration."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Review levels, lowest first (SPEC "Review workflow"); a job enters at the first.
LEVELS = ("school", "county", "city", "province", "national")
STATUSES = ("queued", "running", "done", "error")


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

    job: Mapped[Job] = relationship(back_populates="lesson")


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

    __table_args__ = (Index("ix_api_tokens_name", "name"),)
