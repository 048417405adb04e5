"""Lesson fingerprints (SPEC "Cross-lesson checks"): each job's prints and the keys it is found under.

`fingerprints` keeps one row per job: its picture hashes (64-bit, little-endian) and Chromaprint
values (32-bit), as bytes, and a compact lesson number. `print_keys` is the candidate index: one
row per (key, lesson number, time), its primary key the whole row (index-only lookups; SQLite
WITHOUT ROWID). A new lesson's (key, time) pairs are joined with it and vote, per indexed
lesson, for the time offset between the two (Shazam-style): only keys agreeing on one offset
count. Both databases run the one query (the pairs as an array on PostgreSQL, json_each on SQLite).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, delete, insert, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .models import Base, Finding, Job, Lesson, UTCDateTime, utcnow

KEYS_VERSION = 2  # the keys' form a fingerprint is indexed under (2: 0008's keys with times); older: no keys yet
MATCH_CODES = ("originality.reused", "originality.duplicate")
META_FIELDS = ("title", "teacher", "school", "region", "year")   # what a match names of the other lesson


class Fingerprint(Base):
    """One job's fingerprint (its picture and sound prints); `lesson_no` is its number in `print_keys`."""

    __tablename__ = "fingerprints"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    lesson_no: Mapped[int] = mapped_column(Integer, unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    picture: Mapped[bytes] = mapped_column(LargeBinary)
    picture_step_s: Mapped[float] = mapped_column(Float)
    sound: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # the sweeper looks for unkeyed fingerprints every pass: a partial index, empty once all are keyed
    __table_args__ = (Index("ix_fingerprints_unkeyed", "lesson_no", postgresql_where=text(f"version < {KEYS_VERSION}"),
                            sqlite_where=text(f"version < {KEYS_VERSION}")),)


class PrintKey(Base):
    """Lesson `lesson_no` holds `key` at `at` (ticks from its start); the whole row is the key (index-only)."""

    __tablename__ = "print_keys"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lesson_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[int] = mapped_column(Integer, primary_key=True)

    __table_args__ = ({"sqlite_with_rowid": False},)


class PrintNumber(Base):
    """The last lesson number given (one row): numbers are never given twice, even after a job is deleted."""

    __tablename__ = "print_numbers"

    last: Mapped[int] = mapped_column(Integer, primary_key=True)


@dataclass(frozen=True)
class Stored:
    """A job's stored prints and what evidence names of it."""

    job_id: str
    lesson_no: int
    picture: bytes
    picture_step_s: float
    sound: bytes
    meta: dict[str, Any]


@dataclass(frozen=True)
class Voted:
    """An indexed lesson equal keys point at: its job, and its time offsets (seconds, theirs minus mine)."""

    job_id: str
    offsets_s: tuple[float, ...]
    votes: int


def store(session: Session, job_id: str, picture: bytes, picture_step_s: float, sound: bytes,
          keys: Iterable[tuple[int, int]], old_keys: Callable[[Stored], Iterable[int]] | None = None) -> bool:
    """Keep a job's prints and its (key, at) pairs under a new lesson number, replacing any it had (False:
    these very prints were kept already). A replaced lesson's keys are deleted where `old_keys` (its prints'
    keys) finds them; others stay behind unseen (their number is never given again; `prune_keys`)."""
    old = session.get(Fingerprint, job_id)
    if old is not None and old.picture == picture and old.sound == sound and old.picture_step_s == picture_step_s:
        return False
    if old is not None:
        if old_keys is not None:
            gone = sorted(set(old_keys(_bare(old))))
            session.execute(delete(PrintKey).where(PrintKey.lesson_no == old.lesson_no, PrintKey.key.in_(gone)))
        session.delete(old)
        session.flush()
    number = _next_number(session)
    session.add(Fingerprint(job_id=job_id, lesson_no=number, version=KEYS_VERSION, picture=picture,
                            picture_step_s=picture_step_s, sound=sound))
    session.flush()
    _insert_keys(session, number, keys)
    return True


def unkeyed(session: Session, limit: int) -> list[Stored]:
    """Up to `limit` fingerprints kept before their keys' form changed (no keys yet), oldest first; on
    PostgreSQL rows another transaction is re-keying are skipped."""
    query = select(Fingerprint).where(Fingerprint.version < KEYS_VERSION).order_by(Fingerprint.lesson_no).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [_bare(fp) for fp in session.scalars(query)]


def add_keys(session: Session, lesson_no: int, keys: Iterable[tuple[int, int]]) -> None:
    """Index an unkeyed fingerprint under its (key, at) pairs, in the current form."""
    _insert_keys(session, lesson_no, keys)
    session.execute(update(Fingerprint).where(Fingerprint.lesson_no == lesson_no).values(version=KEYS_VERSION))


def _insert_keys(session: Session, lesson_no: int, keys: Iterable[tuple[int, int]]) -> None:
    rows = [{"key": k, "lesson_no": lesson_no, "at": a} for k, a in sorted(set(keys))]
    if rows:
        session.execute(insert(PrintKey), rows)


def _bare(fp: Fingerprint) -> Stored:
    """A stored fingerprint's prints, without what evidence names of its lesson."""
    return Stored(fp.job_id, fp.lesson_no, fp.picture, fp.picture_step_s, fp.sound, {})


def _next_number(session: Session) -> int:
    """The next lesson number (the counter's row is locked until commit: writers number one at a time)."""
    number = session.execute(text("UPDATE print_numbers SET last = last + 1 RETURNING last")).scalar_one_or_none()
    if number is None:  # an emptied table (tests truncate): start after the numbers in use
        number = int(session.execute(text("SELECT coalesce(max(lesson_no), 0) + 1 FROM fingerprints")).scalar_one())
        session.add(PrintNumber(last=number))
        session.flush()
    return int(number)


def prune_keys(session: Session) -> int:
    """Delete the keys of lesson numbers no fingerprint has any more (replaced or deleted jobs): a full scan."""
    return session.execute(text("DELETE FROM print_keys WHERE lesson_no NOT IN "
                                "(SELECT lesson_no FROM fingerprints)")).rowcount


def _pairs_source(session: Session, packed: list[int]) -> tuple[str, Any]:
    if session.get_bind().dialect.name == "postgresql":
        return "SELECT v FROM unnest(CAST(:q AS bigint[])) AS v", packed
    return "SELECT value AS v FROM json_each(:q)", json.dumps(packed)


def votes(session: Session, packed: list[int], at_bits: int, exclude: str, bucket: int,
          min_votes: int) -> dict[int, dict[int, int]]:
    """Votes of equal keys per indexed lesson and offset bucket (their tick minus mine, floor-divided by
    `bucket` ticks): the buckets that with a neighbour hold at least `min_votes`. `packed` holds
    key << at_bits | at."""
    if not packed:
        return {}
    source, value = _pairs_source(session, packed)
    if session.get_bind().dialect.name == "postgresql":  # one index probe a key, never a scan of the table
        session.execute(text("SET LOCAL enable_hashjoin = off"))
        session.execute(text("SET LOCAL enable_mergejoin = off"))
    shift = bucket * (1 << at_bits)  # keeps the offset positive: integer division floors alike on both
    sql = (f"WITH q AS (SELECT v / {1 << at_bits} AS key, v % {1 << at_bits} AS at FROM ({source}) AS s), "
           "g AS (SELECT p.lesson_no AS lesson, (p.at - q.at + :shift) / :bucket AS b, count(*) AS n "
           "FROM q JOIN print_keys p ON p.key = q.key WHERE p.lesson_no <> "
           "coalesce((SELECT lesson_no FROM fingerprints WHERE job_id = :me), -1) GROUP BY 1, 2), "
           "w AS (SELECT lesson, b, n, lag(b) OVER o AS pb, lag(n) OVER o AS pn, lead(b) OVER o AS nb, "
           "lead(n) OVER o AS nn FROM g WINDOW o AS (PARTITION BY lesson ORDER BY b)) "
           "SELECT lesson, b, n FROM w WHERE n + CASE WHEN nb = b + 1 THEN nn ELSE 0 END >= :min "
           "OR n + CASE WHEN pb = b - 1 THEN pn ELSE 0 END >= :min")
    out: dict[int, dict[int, int]] = {}
    for lesson, b, n in session.execute(text(sql), {"q": value, "shift": shift, "bucket": bucket, "me": exclude,
                                                    "min": min_votes}):
        out.setdefault(int(lesson), {})[int(b) - shift // bucket] = int(n)
    return out


def load(session: Session, lesson_nos: Sequence[int]) -> list[Stored]:
    """The stored prints of lesson numbers (in that order; numbers no fingerprint has are left out)."""
    if not lesson_nos:
        return []
    rows = session.execute(select(Fingerprint, Job, Lesson).join(Job, Job.id == Fingerprint.job_id)
                           .outerjoin(Lesson, Lesson.job_id == Job.id).where(Fingerprint.lesson_no.in_(lesson_nos)))
    found = {fp.lesson_no: Stored(fp.job_id, fp.lesson_no, fp.picture, fp.picture_step_s, fp.sound, _meta(job, lesson))
             for fp, job, lesson in rows}
    return [found[n] for n in lesson_nos if n in found]


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
