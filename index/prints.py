"""Lesson fingerprints (SPEC "Cross-lesson checks"): each job's prints and the keys it is found under.

`fingerprints` keeps one row per job: its picture hashes (64-bit, little-endian) and Chromaprint
values (32-bit), as bytes. `print_keys` is the candidate index (multi-index hashing): one row
per (key, job), a key being a 16-bit band of a hash tagged with its band; an exact B-tree lookup
of a new lesson's keys finds the lessons worth comparing frame by frame. Both databases run it
the same way (an array parameter on PostgreSQL, json_each on SQLite).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, delete, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from .models import Base, Finding, Job, Lesson, UTCDateTime, utcnow

MATCH_CODES = ("originality.reused", "originality.duplicate")
META_FIELDS = ("title", "teacher", "school", "region", "year")   # what a match names of the other lesson


class Fingerprint(Base):
    """One job's fingerprint (its picture and sound prints)."""

    __tablename__ = "fingerprints"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    picture: Mapped[bytes] = mapped_column(LargeBinary)
    picture_step_s: Mapped[float] = mapped_column(Float)
    sound: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrintKey(Base):
    """A job is found under this key (band << 16 | 16-bit value)."""

    __tablename__ = "print_keys"

    key: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_print_keys_job", "job_id"), {"sqlite_with_rowid": False})


@dataclass(frozen=True)
class Stored:
    """A job's stored prints and what evidence names of it."""

    job_id: str
    picture: bytes
    picture_step_s: float
    sound: bytes
    meta: dict[str, Any]


def store(session: Session, job_id: str, picture: bytes, picture_step_s: float, sound: bytes,
          keys: Iterable[int]) -> None:
    """Keep a job's prints and keys (replacing any it had)."""
    session.execute(delete(PrintKey).where(PrintKey.job_id == job_id))
    session.execute(delete(Fingerprint).where(Fingerprint.job_id == job_id))
    session.add(Fingerprint(job_id=job_id, version=1, picture=picture, picture_step_s=picture_step_s, sound=sound))
    session.flush()
    rows = [{"key": k, "job_id": job_id} for k in sorted(set(keys))]
    if rows:
        session.execute(insert(PrintKey), rows)


def candidates(session: Session, keys: Iterable[int], exclude: str, limit: int, min_hits: int) -> list[str]:
    """Jobs sharing at least `min_hits` of `keys` (not `exclude`), most shared first, at most `limit`."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    if session.get_bind().dialect.name == "postgresql":
        among, value = "key = ANY(CAST(:keys AS integer[]))", wanted
    else:
        among, value = "key IN (SELECT value FROM json_each(:keys))", json.dumps(wanted)
    rows = session.execute(text(f"SELECT job_id, count(*) AS hits FROM print_keys WHERE {among} AND job_id <> :me "
                                "GROUP BY job_id HAVING count(*) >= :min ORDER BY hits DESC, job_id LIMIT :n"),
                           {"keys": value, "me": exclude, "min": min_hits, "n": limit})
    return [r[0] for r in rows]


def load(session: Session, job_ids: Sequence[str]) -> list[Stored]:
    """The stored prints of `job_ids` (in that order; jobs without prints are left out)."""
    if not job_ids:
        return []
    rows = session.execute(select(Fingerprint, Job, Lesson).join(Job, Job.id == Fingerprint.job_id)
                           .outerjoin(Lesson, Lesson.job_id == Job.id).where(Fingerprint.job_id.in_(job_ids)))
    found = {fp.job_id: Stored(fp.job_id, fp.picture, fp.picture_step_s, fp.sound, _meta(job, lesson))
             for fp, job, lesson in rows}
    return [found[j] for j in job_ids if j in found]


def _meta(job: Job, lesson: Lesson | None) -> dict[str, Any]:
    return {"title": lesson.title if lesson else None, "teacher": lesson.teacher if lesson else None,
            "school": lesson.school if lesson else None, "region": job.region,
            "year": job.submitted_at.year if job.submitted_at else None}


def has_prints(session: Session, job_id: str) -> bool:
    return session.get(Fingerprint, job_id) is not None


def matches_of(session: Session, job_id: str) -> list[tuple[str, Finding]]:
    """The originality findings naming `job_id`: its own ("this"), and other lessons' that re-use it ("other")."""
    own = session.scalars(select(Finding).where(Finding.job_id == job_id, Finding.code.in_(MATCH_CODES))
                          .order_by(Finding.seq)).all()
    others = session.scalars(select(Finding).where(Finding.code.in_(MATCH_CODES), Finding.job_id != job_id,
                                                   Finding.evidence["other_job_id"].as_string() == job_id)
                             .order_by(Finding.job_id, Finding.seq)).all()
    return [("this", f) for f in own] + [("other", f) for f in others]


@dataclass(frozen=True)
class Match:
    """One re-use seen from a job, whichever report holds it: this job's [start_s, end_s] is the other
    lesson's [other_start_s, other_end_s] (None where the finding names no such range: a duplicate).

    `found_in` is "this" when this job's report holds the finding (it re-uses the other), "other" when
    the other lesson's report names this job. `other` is the other lesson's title, teacher, school,
    region and year: from the index where it still holds the lesson, else as the finding's evidence names it."""

    found_in: str
    code: str
    start_s: float | None
    end_s: float | None
    other_job_id: str
    other_start_s: float | None
    other_end_s: float | None
    matched: str | None
    similarity: float | None
    share: float | None
    mirrored: bool | None
    other: dict[str, Any]
    other_indexed: bool


def matches_seen_from(session: Session, job_id: str) -> list[Match]:
    """`matches_of(job_id)` from `job_id`'s side: its range first, the other lesson's second."""
    found = matches_of(session, job_id)
    others = {f.job_id if where == "other" else str((f.evidence or {}).get("other_job_id")) for where, f in found}
    rows = session.execute(select(Job, Lesson).outerjoin(Lesson, Lesson.job_id == Job.id)
                           .where(Job.id.in_(others))).all() if others else []
    indexed = {job.id: _meta(job, lesson) for job, lesson in rows}
    return [_seen_from(where, f, indexed) for where, f in found]


def _seen_from(where: str, f: Finding, indexed: dict[str, dict[str, Any]]) -> Match:
    ev = f.evidence or {}
    common = {"matched": ev.get("matched"), "similarity": ev.get("similarity"), "share": ev.get("share"),
              "mirrored": ev.get("mirrored")}
    if where == "this":
        other = str(ev.get("other_job_id"))
        named = {k: ev.get(f"other_{k}") for k in META_FIELDS}
        return Match("this", f.code, f.start_s, f.end_s, other, ev.get("other_start_s"), ev.get("other_end_s"),
                     other=indexed.get(other, named), other_indexed=other in indexed, **common)
    return Match("other", f.code, ev.get("other_start_s"), ev.get("other_end_s"), f.job_id, f.start_s, f.end_s,
                 other=indexed.get(f.job_id, {}),
                 other_indexed=f.job_id in indexed, **common)
