"""Review tables (SPEC "Review workflow"): console users and sessions, finding reviews, decisions.

Finding reviews and decisions are append-only: rows are only ever inserted (who, when, why);
the latest row of a (finding, level) or (job, level) is the one in force.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow


class User(Base):
    """A reviewer (level + region path) or an admin; only an argon2 hash of the password is kept."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(200), default="")   # '' = the whole country
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(Text)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)   # the latest lockout, from some client
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(Base):
    """A console login: the cookie's token is kept as sha256 only; the CSRF token is bound to it."""

    __tablename__ = "login_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_login_sessions_user", "user_id"),)


class LoginThrottle(Base):
    """A counter of login attempts in a window: kind `failure` per (account, client), `client` per client
    (account ''). Updated only by one atomic upsert per attempt (index/throttle.py)."""

    __tablename__ = "login_throttle"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    client: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_login_throttle_window", "window_start"),)


class FindingReview(Base):
    """A reviewer's confirm/dismiss of one finding at one level, with a note (append-only)."""

    __tablename__ = "finding_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    finding_seq: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))        # confirmed | dismissed
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_finding_reviews_job", "job_id", "level", "finding_seq"),)


class Decision(Base):
    """A level's decision on a lesson: pass (forward), return (to the teacher) or reject (append-only)."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))        # pass | return | reject
    reason: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(100))     # user name (kept even if the user is removed)
    reviewer_region: Mapped[str] = mapped_column(String(200), default="")
    next_level: Mapped[str | None] = mapped_column(String(16))  # where a pass sent the lesson
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_decisions_job_level", "job_id", "level", "id"),
                      Index("ix_decisions_level_job", "level", "job_id"))


class LessonOpen(Base):
    """A reviewer at a level opened a lesson (the first open per level after a decision ends its undo)."""

    __tablename__ = "lesson_opens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    reviewer: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_lesson_opens_job_level", "job_id", "level", "opened_at"),)
