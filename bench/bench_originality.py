"""Originality: fingerprint cost ÷ decode-only, storage per lesson-hour, and lookups in a large index.

1. On the 15-min benchmark lesson (bench/bench_check.py makes it): the picture hashes' time on
   the shared frame stream plus fpcalc's time on the 16 kHz WAV, divided by a decode-only run.
2. Storage: the lesson's stored prints and index keys, per hour of lesson.
3. Lookups: `--lessons` synthetic lessons of 15–45 min written straight into the database
   (picture scenes of drifting hashes, random Chromaprint values; COPY on PostgreSQL,
   executemany on SQLite), `--planted` new lessons that re-use 30–60 s of an indexed one
   (2 bits of picture noise, about 10 % sound bit errors), and `--unrelated` new lessons that
   share nothing: lookup p50/p95 (the whole report-step check), recall of the planted
   re-uses, false matches among the unrelated.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from bench.timing import decode_only
from index import db
from index import prints as stored
from pipelines import profile as profiles
from pipelines.media import decode
from pipelines.media.probe import probe
from pipelines.originality import config, cross, prints
from pipelines.originality.prints import Prints
from pipelines.originality.sound import STEP_S, chromaprint
from pipelines.originality.stage import PictureConsumer
from pipelines.stages import shared_frame_spec
from workers import originality

FPS = 2.0


# ---- 1. cost on a real lesson ----

def cost(path: Path) -> dict[str, float]:
    """Seconds of decode-only, of the picture hashes on the frame stream, of fpcalc; their ratio."""
    profile = profiles.load("micro-primary")
    media = probe(path, profile).media
    baseline = decode_only(path)
    with tempfile.TemporaryDirectory() as tmp:
        consumer = PictureConsumer(config.load().picture, Path(tmp), 1 / FPS)
        log = decode.stream_frames(path, shared_frame_spec(profile), (media.video.width, media.video.height),
                                   [consumer])
        hashes = log.consumer_seconds[consumer.name]
        wav = decode.extract_audio(path, Path(tmp) / "a.wav")
        started = time.perf_counter()
        values = chromaprint(wav, 600)
        sound = time.perf_counter() - started
        mine = Prints(np.array(consumer.hashes, np.uint64), np.array(consumer.mirrored, np.uint64), 1 / FPS, values)
    return {"decode_only_s": baseline, "picture_s": hashes, "fpcalc_s": sound,
            "ratio": (hashes + sound) / baseline, **storage(mine, media.duration_s)}


def storage(mine: Prints, duration_s: float) -> dict[str, float]:
    """Bytes a lesson keeps (prints and index keys at about 12 bytes a key row), per lesson-hour."""
    cfg = config.load()
    keys = len(prints.index_keys(mine, cfg.picture, cfg.sound))
    blob = len(prints.picture_bytes(mine)) + len(prints.sound_bytes(mine))
    hours = duration_s / 3600
    return {"prints_bytes_per_hour": blob / hours, "keys_per_hour": keys / hours}


# ---- 3. synthetic index ----

class Synth:
    """Synthetic lessons: scenes of 64-bit hashes (30 % moving ~6 bits a frame, the rest still), random sound."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def bits(self, n: int, k: int) -> np.ndarray:
        """n random masks of k set bits each."""
        masks = np.zeros(n, np.uint64)
        for _ in range(k):
            masks |= np.uint64(1) << self.rng.integers(0, 64, n, dtype=np.uint64)
        return masks

    def lesson(self, minutes: float) -> Prints:
        frames = int(minutes * 60 * FPS)
        lengths = np.maximum(4, self.rng.exponential(20, frames // 4).astype(int))
        starts = np.cumsum(lengths)
        scene = np.searchsorted(starts, np.arange(frames), side="right")
        heads = self.rng.integers(0, 2**63, len(lengths), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        moving = self.rng.random(len(lengths)) < 0.3  # 30 % moving shots, 70 % slides (encoding noise only)
        drift = np.where(moving[scene], self.bits(frames, 3), self.bits(frames, 1) * (self.rng.random(frames) < 0.3))
        picture = heads[scene] ^ drift
        sound = self.rng.integers(0, 2**32, int(minutes * 60 / STEP_S), dtype=np.uint64).astype(np.uint32)
        return Prints(picture, picture ^ np.uint64(0x5A5A_A5A5_0FF0_F00F), 1 / FPS, sound)

    def planted(self, source: Prints, seconds: float) -> tuple[Prints, float]:
        """A 20-min lesson holding `seconds` of `source` (noisy) at a random place; where in the source."""
        mine = self.lesson(20)
        n = int(seconds * FPS)
        at, of = int(self.rng.integers(0, len(mine.picture) - n)), int(self.rng.integers(0, len(source.picture) - n))
        mine.picture[at:at + n] = source.picture[of:of + n] ^ self.bits(n, 2)
        m, s_at, s_of = int(seconds / STEP_S), int(at / FPS / STEP_S), int(of / FPS / STEP_S)
        noise = self.bits(m, 3).astype(np.uint32)  # about 3 of 32 bits
        mine.sound[s_at:s_at + m] = source.sound[s_of:s_of + m] ^ noise
        return mine, of / FPS


def fill(database: db.Database, synth: Synth, count: int, batch: int = 500) -> list[tuple[str, Prints]]:
    """`count` synthetic lessons straight into the index; returns the first 200 (planting sources)."""
    cfg = config.load()
    kept: list[tuple[str, Prints]] = []
    for first in range(0, count, batch):
        lessons = [(f"syn-{i:06d}", synth.lesson(float(synth.rng.uniform(15, 45))))
                   for i in range(first, min(count, first + batch))]
        _write(database, [(j, p, prints.index_keys(p, cfg.picture, cfg.sound)) for j, p in lessons])
        kept += lessons[:max(0, 200 - len(kept))]
        print(f"  {first + len(lessons)} lessons written", flush=True)
    return kept


def _write(database: db.Database, rows: list[tuple[str, Prints, set[int]]]) -> None:
    raw = database.engine.raw_connection()
    try:
        cur = raw.cursor()
        now = "2025-06-01 00:00:00"
        jobs = [(j, "synthetic", "synthetic", "done", "school", now, 0, 0) for j, _, _ in rows]
        cur.executemany(_sql(database, "INSERT INTO jobs (id, source, profile, status, level, submitted_at, "
                                       "callback_attempts, recoveries) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"), jobs)
        cur.executemany(_sql(database, "INSERT INTO fingerprints (job_id, version, picture, picture_step_s, sound, "
                                       "created_at) VALUES (?, 1, ?, ?, ?, ?)"),
                        [(j, prints.picture_bytes(p), p.picture_step_s, prints.sound_bytes(p), now) for j, p, _ in rows])
        keys = [(k, j) for j, _, ks in rows for k in ks]
        if database.dialect == "postgresql":
            with cur.copy("COPY print_keys (key, job_id) FROM STDIN") as copy:
                for row in keys:
                    copy.write_row(row)
        else:
            cur.executemany("INSERT INTO print_keys (key, job_id) VALUES (?, ?)", keys)
        raw.commit()
    finally:
        raw.close()


def _sql(database: db.Database, text: str) -> str:
    return text.replace("?", "%s") if database.dialect == "postgresql" else text


def lookups(database: db.Database, synth: Synth, sources: list[tuple[str, Prints]], planted: int,
            unrelated: int) -> dict[str, float]:
    index = originality.IndexLessons(lambda: database)
    times: list[float] = []
    found = 0
    for i in range(planted):
        job_id, source = sources[i % len(sources)]
        mine, _ = synth.planted(source, float(synth.rng.uniform(30, 60)))
        started = time.perf_counter()
        result = cross.check(f"new-{i}", mine, index, len(mine.picture) / FPS)
        times.append(time.perf_counter() - started)
        found += any(f.evidence.get("other_job_id") == job_id for f in result)
    false = 0
    for i in range(unrelated):
        mine = synth.lesson(float(synth.rng.uniform(15, 45)))
        started = time.perf_counter()
        false += bool(cross.check(f"other-{i}", mine, index, len(mine.picture) / FPS))
        times.append(time.perf_counter() - started)
    return {"lookups": len(times), "p50_s": statistics.median(times), "p95_s": float(np.percentile(times, 95)),
            "recall": found / max(1, planted), "false_matches": false, "unrelated": unrelated}


def size_of(database: db.Database) -> int:
    with database.engine.connect() as conn:
        if database.dialect == "postgresql":
            from sqlalchemy import text
            return int(conn.execute(text("SELECT pg_total_relation_size('fingerprints') + "
                                         "pg_total_relation_size('print_keys')")).scalar())
    return Path(database.engine.url.database).stat().st_size


def run_backend(url: str, args: argparse.Namespace) -> None:
    database = db.open_database(url)
    synth = Synth(7)
    started = time.perf_counter()
    sources = fill(database, synth, args.lessons)
    if database.dialect == "postgresql":
        with database.engine.connect() as conn:
            from sqlalchemy import text
            conn.execute(text("ANALYZE"))
            conn.commit()
    print(f"  filled in {time.perf_counter() - started:.0f} s, {size_of(database) / 2**20:.0f} MiB of prints and keys")
    print(f"  {lookups(database, synth, sources, args.planted, args.unrelated)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, help="the lesson to time (default: the 15-min benchmark lesson)")
    parser.add_argument("--lessons", type=int, default=100_000)
    parser.add_argument("--planted", type=int, default=100)
    parser.add_argument("--unrelated", type=int, default=1000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a server where a scratch database is made and dropped")
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    if not args.skip_cost:
        from bench.bench_check import lesson15
        print("cost on the benchmark lesson:", cost(args.video or lesson15()))
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite, {args.lessons} lessons:")
        run_backend(f"sqlite:///{tmp}/bench.sqlite3", args)
    print(f"PostgreSQL, {args.lessons} lessons:")
    with scratch_postgres(args.postgres) as url:
        run_backend(url, args)


class scratch_postgres:  # noqa: N801 - a context manager used like a function
    """A fresh database on the server, dropped afterwards."""

    def __init__(self, admin_url: str):
        self.admin, self.name = admin_url, f"lqcbench_{uuid.uuid4().hex[:10]}"

    def _run(self, sql: str) -> None:
        import psycopg
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql)

    def __enter__(self) -> str:
        self._run(f'CREATE DATABASE "{self.name}"')
        base = self.admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/{self.name}"

    def __exit__(self, *exc: object) -> None:
        db.close_all()
        self._run(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
