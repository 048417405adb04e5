"""The originality index lookup on synthetic prints (no media): offset voting finds a re-use at its
offset on both databases, two lessons checked at once find each other, a replaced lesson's keys
go, and fingerprints stored under 0007 are numbered by migration 0008 and indexed anew by the workers."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from index import db, repository
from index import prints as stored
from pipelines.originality import config, cross, match, prints
from pipelines.originality.prints import Prints
from pipelines.originality.sound import STEP_S
from workers import originality

FPS = 2.0


def synthetic(seed: int, seconds: float) -> Prints:
    """Scenes of random 64-bit hashes (a bit of noise a frame) and random Chromaprint values."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * FPS)
    scene = np.minimum(np.arange(frames) // 8, frames)
    heads = rng.integers(1, 2**63, scene.max() + 1, dtype=np.uint64)
    noise = np.uint64(1) << rng.integers(0, 64, frames, dtype=np.uint64)
    picture = heads[scene] ^ (noise * (rng.random(frames) < 0.3))
    sound = rng.integers(1, 2**32, int(seconds / STEP_S), dtype=np.uint64).astype(np.uint32)
    return Prints(picture, picture ^ np.uint64(0x5A5A_A5A5_0FF0_F00F), 1 / FPS, sound)


def reusing(source: Prints, seed: int, seconds: float, at_s: float, of_s: float, length_s: float) -> Prints:
    """A lesson of its own holding `length_s` of `source` (from `of_s`) at `at_s`."""
    mine = synthetic(seed, seconds)
    a, o, n = int(at_s * FPS), int(of_s * FPS), int(length_s * FPS)
    mine.picture[a:a + n] = source.picture[o:o + n]
    mine.mirrored[a:a + n] = source.mirrored[o:o + n]
    a, o, n = int(at_s / STEP_S), int(of_s / STEP_S), int(length_s / STEP_S)
    mine.sound[a:a + n] = source.sound[o:o + n]
    return mine


def add_jobs(database: db.Database, *job_ids: str) -> None:
    with database.session() as session:
        for job_id in job_ids:
            repository.add_job(session, repository.NewJob(job_id, f"{job_id}.mp4", "micro-primary",
                                                          lesson={"title": f"lesson {job_id}"}))


def test_reuse_found_at_its_offset_and_nothing_else(index_url):
    database = db.open_database(index_url)
    source = synthetic(1, 300)
    add_jobs(database, "src", "noise")
    originality.store_prints(database, "src", source)
    originality.store_prints(database, "noise", synthetic(2, 300))
    mine = reusing(source, 3, 200, 50.0, 120.0, 30.0)
    found = cross.check("new", mine, originality.IndexLessons(lambda: database), 200.0)
    assert [(f.code, f.evidence["other_job_id"]) for f in found] == [("originality.reused", "src")]
    assert abs(found[0].start_s - 50) <= 1 and abs(found[0].end_s - 80) <= 1
    assert abs(found[0].evidence["other_start_s"] - 120) <= 1 and abs(found[0].evidence["other_end_s"] - 150) <= 1
    assert not cross.check("new", synthetic(4, 200), originality.IndexLessons(lambda: database), 200.0)


def test_votes_pick_the_offset_of_the_reuse():
    rules = config.load().lookup
    votes = {7: {10: 2, 11: 2, 40: 1}, 8: {3: 1, 90: 1}}  # lesson 7: 4 votes across the 10|11 edge
    chosen = cross.candidates(votes, 1.0, rules)
    assert [(c.lesson_no, c.offsets_s, c.votes) for c in chosen] == [(7, (11.0,), 4)]


class Racing(originality.IndexLessons):
    """Both lessons reach their lookup before either goes on: the worst interleaving for the index."""

    def __init__(self, database: db.Database, barrier: threading.Barrier):
        super().__init__(lambda: database)
        self.barrier = barrier

    def votes(self, *args, **kwargs):
        self.barrier.wait(timeout=60)
        return super().votes(*args, **kwargs)


class Late(Racing):
    """The old order: a lesson is kept only after its check (here: never)."""

    def keep(self, job_id, mine) -> None:
        pass


def _at_once(index_type: type[Racing], database: db.Database, lessons: dict[str, Prints]) -> dict[str, set[str]]:
    barrier = threading.Barrier(len(lessons))
    found: dict[str, set[str]] = {}

    def run(job_id: str) -> None:
        result = cross.check(job_id, lessons[job_id], index_type(database, barrier), 200.0)
        found[job_id] = {f.evidence["other_job_id"] for f in result}

    threads = [threading.Thread(target=run, args=(j,)) for j in lessons]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return found


def test_two_lessons_checked_at_once_find_each_other(tmp_path: Path):
    database = db.open_database(f"sqlite:///{tmp_path / 'index.sqlite3'}")
    a = synthetic(5, 200)
    b = reusing(a, 6, 200, 100.0, 30.0, 40.0)
    add_jobs(database, "a", "b")
    assert _at_once(Late, database, {"a": a, "b": b}) == {"a": set(), "b": set()}, "control: missed both ways"
    assert _at_once(Racing, database, {"a": a, "b": b}) == {"a": {"b"}, "b": {"a"}}


def test_replaced_prints_take_a_new_number_and_their_old_keys_go(tmp_path: Path):
    database = db.open_database(f"sqlite:///{tmp_path / 'index.sqlite3'}")
    add_jobs(database, "a")
    originality.store_prints(database, "a", synthetic(7, 60))
    originality.store_prints(database, "a", synthetic(7, 60))  # the same prints again: nothing changes
    originality.store_prints(database, "a", synthetic(8, 60))
    with database.session() as session:
        numbers = session.execute(sa.text("SELECT lesson_no FROM fingerprints")).scalars().all()
        keyed = session.execute(sa.text("SELECT DISTINCT lesson_no FROM print_keys")).scalars().all()
    assert numbers == [2] and keyed == [2]


def test_fingerprints_stored_under_0007_are_numbered_by_0008_and_indexed_anew_by_the_workers(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine, "0007")
    lesson = synthetic(9, 60)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO jobs (id, source, profile, status, level, submitted_at, callback_attempts,"
                             " recoveries) VALUES ('old', 'old.mp4', 'micro-primary', 'done', 'school',"
                             " '2025-01-01 00:00:00', 0, 0)"))
        conn.execute(sa.text("INSERT INTO fingerprints (job_id, version, picture, picture_step_s, sound, created_at)"
                             " VALUES ('old', 1, :p, 0.5, :s, '2025-01-01 00:00:00')"),
                     {"p": prints.picture_bytes(lesson), "s": prints.sound_bytes(lesson)})
        conn.execute(sa.text("INSERT INTO print_keys (key, job_id) VALUES (1, 'old')"))
    db.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM print_keys")).scalar_one() == 0, "the old form is gone"
        number = conn.execute(sa.text("SELECT lesson_no FROM fingerprints WHERE job_id = 'old'")).scalar_one()
        last = conn.execute(sa.text("SELECT last FROM print_numbers")).scalar_one()
    engine.dispose()
    assert number == 1 and last == 1
    database = originality.database_at(str(path))  # what `lessonqc check --index` opens: indexed anew first
    cfg = config.load()
    want = prints.index_keys(lesson, cfg.picture, cfg.sound, cfg.lookup.tick_s)
    with database.session() as session:
        rows = session.execute(sa.text("SELECT key, lesson_no, at FROM print_keys")).all()
        assert stored.unkeyed(session, 10) == []
    assert sorted((k, a) for k, _, a in rows) == sorted(set(zip(want.key.tolist(), want.at.tolist())))
    assert {n for _, n, _ in rows} == {1}
    assert originality.rekey(database) == 0, "indexed once"
    found = cross.check("new", lesson, originality.IndexLessons(lambda: database), 60.0)
    assert [f.evidence["other_job_id"] for f in found if f.code == "originality.duplicate"] == ["old"]


@pytest.mark.parametrize("flips", [0, 1])
def test_query_keys_find_a_value_one_bit_off_only_with_flips(flips):
    cfg = config.load()
    sound = cfg.sound.model_copy(update={"query_flips": flips, "index_modulus": 1})
    values = np.array([0x12345678, 0x0F0F0F0F], np.uint32)
    indexed = set(prints.sound_keys(values, STEP_S, sound, 0.1).key.tolist())
    query = set(prints.sound_keys(values ^ np.uint32(1 << 9), STEP_S, sound, 0.1, flips).key.tolist())
    assert bool(indexed & query) == bool(flips)


def _shot(head: int, frames: int, seed: int) -> np.ndarray:
    """One shot that barely changes: a head hash with 3 random bits flipped a frame (a teacher at a board)."""
    rng = np.random.default_rng(seed)
    masks = np.zeros(frames, np.uint64)
    for _ in range(3):
        masks |= np.uint64(1) << rng.integers(0, 64, frames, dtype=np.uint64)
    return np.uint64(head) ^ masks


@pytest.mark.parametrize("apart_bits, found", [(10, False), (0, True)])
def test_one_look_alike_shot_is_not_reuse_but_its_copy_is(apart_bits, found):
    cfg = config.load()
    head = 0x0123_4567_89AB_CDEF
    theirs = _shot(head, 60, 1)
    mine = _shot(head ^ ((1 << apart_bits) - 1), 60, 2) if apart_bits else theirs ^ (np.uint64(1) << np.uint64(5))
    a, b = Prints(mine, mine ^ np.uint64(0xFFFF), 0.5), Prints(theirs, theirs, 0.5)
    runs = match.picture_runs(a, b, cfg.picture, cfg.matching, 10.0)
    assert bool(runs) == found, runs
