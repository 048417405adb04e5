"""The index side of the originality check: other lessons' prints for matching, this lesson's kept.

`IndexLessons` is the `LessonIndex` the report step matches against (the farm's and
`lessonqc check --index`'s alike); `store_published` keeps a published report's prints
(its artifacts, common material masked out) with its job, so later lessons are matched
against it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index import db
from index import prints as stored
from index import repository
from pipelines.originality import config, cross, prints
from pipelines.originality.findings import Other
from pipelines.originality.prints import Prints

log = logging.getLogger(__name__)


class IndexLessons:
    """The lessons of one database as a `pipelines.originality.cross.LessonIndex`."""

    def __init__(self, database: Callable[[], db.Database]):
        self.database = database

    def keep(self, job_id: str, mine: Prints) -> None:
        """This job's prints into the index (committed) before it is matched, when the index knows the job
        (the farm's jobs; `lessonqc check --index` adds its job afterwards)."""
        database = self.database()
        with database.session() as session:
            known = repository.get_job(session, job_id) is not None
        if known:
            store_prints(database, job_id, mine, masked=True)

    def votes(self, packed: list[int], exclude: str, bucket: int, min_votes: int) -> dict[int, dict[int, int]]:
        with self.database().session() as session:
            return stored.votes(session, packed, prints.AT_BITS, exclude, bucket, min_votes)

    def prints(self, lesson_nos: list[int]) -> dict[int, tuple[Other, Prints]]:
        with self.database().session() as session:
            rows = stored.load(session, lesson_nos)
        return {r.lesson_no: (Other(r.job_id, r.meta), prints.from_bytes(r.picture, r.picture_step_s, r.sound))
                for r in rows}


def store_prints(database: db.Database, job_id: str, mine: Prints, masked: bool = False) -> None:
    """Keep `mine` (common material masked out here unless `masked`) as `job_id`'s prints, under its keys."""
    cfg = config.load()
    mine = mine if masked else cross.without_common(mine, cfg)
    keys = prints.index_keys(mine, cfg.picture, cfg.sound, cfg.lookup.tick_s)
    with database.session() as session:
        stored.store(session, job_id, prints.picture_bytes(mine), mine.picture_step_s, prints.sound_bytes(mine),
                     zip(keys.key.tolist(), keys.at.tolist()), lambda old: _keys_of(old, cfg).key.tolist())


def rekey(database: db.Database, batch: int = 100, limit: int | None = None) -> int:
    """Index the fingerprints kept before the keys' form changed (migration 0008 leaves them unkeyed: the
    index may not derive keys itself); how many. The sweeper calls it on every pass, `lessonqc check
    --index` and `lessonqc fingerprints rekey` before they use the index."""
    cfg, done = config.load(), 0
    while limit is None or done < limit:
        with database.session() as session:
            asked = batch if limit is None else min(batch, limit - done)
            rows = stored.unkeyed(session, asked)
            for row in rows:
                keys = _keys_of(row, cfg)
                stored.add_keys(session, row.lesson_no, zip(keys.key.tolist(), keys.at.tolist()))
        done += len(rows)
        if len(rows) < asked:
            break
    if done:
        log.info("originality: %d fingerprints indexed under the current keys", done)
    return done


def _keys_of(kept: stored.Stored, cfg: config.Originality) -> prints.Keys:
    """The index keys of stored prints, derived as for a new lesson."""
    return prints.index_keys(prints.from_bytes(kept.picture, kept.picture_step_s, kept.sound), cfg.picture,
                             cfg.sound, cfg.lookup.tick_s)


def store_published(database: db.Database, doc: dict[str, Any], folder: Path) -> bool:
    """Keep the prints of the report published in `folder` (False when it has none)."""
    artifacts = (doc.get("metrics") or {}).get("artifacts") or {}
    mine = prints.from_artifacts(artifacts, folder)
    if mine.empty:
        return False
    store_prints(database, doc["job_id"], mine)
    return True


def index_checked(database: db.Database, doc: dict[str, Any], folder: Path) -> None:
    """The embedded check's report and prints into `database` (`lessonqc check --index`)."""
    repository.upsert_report(database, doc, str(folder))
    store_published(database, doc, folder)


def database_at(where: str) -> db.Database:
    """The index named on a command line (a database URL, or a SQLite file's path), its older fingerprints
    indexed under the current keys first."""
    database = open_at(where)
    rekey(database)
    return database


def open_at(where: str) -> db.Database:
    """The index named on a command line: a database URL, or a SQLite file's path."""
    if "://" not in where:
        where = f"sqlite:///{Path(where).expanduser().resolve()}"
    for plain in ("postgresql://", "postgres://"):
        if where.startswith(plain):
            where = "postgresql+psycopg://" + where[len(plain):]
    return db.open_database(where)


def import_archive(database: db.Database, job_id: str, source: str, lesson: dict[str, str | None],
                   region: str | None, year: int | None, mine: Prints) -> None:
    """An earlier year's lesson (no report: only its metadata and prints) into the index."""
    with database.session() as session:
        job = repository.get_job(session, job_id) or repository.add_job(
            session, repository.NewJob(job_id, source, "archive", media_path=source, region=region, lesson=lesson))
        job.status = "done"
        if year is not None:
            job.submitted_at = datetime(year, 1, 1, tzinfo=timezone.utc)
    store_prints(database, job_id, mine)
