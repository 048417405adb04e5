"""Originality: fingerprint cost ÷ decode-only, storage per lesson-hour, and lookups in a large index.

1. On the 15-min benchmark lesson (bench/bench_check.py makes it): the picture hashes' time on
   the shared frame stream plus fpcalc's time on the 16 kHz WAV, divided by a decode-only run.
2. Storage: the lesson's stored prints and index keys, per hour of lesson.
3. Lookups: `--lessons` synthetic lessons of 15–45 min written straight into the database
   (picture scenes of drifting hashes, random Chromaprint values; binary COPY on PostgreSQL,
   executemany on SQLite, the key index built after the load on both), `--planted` new 20-min
   lessons that re-use 30–60 s of an indexed one under one of the issue's transformations (the
   noise each adds is the one measured on real media by bench/originality_noise.py, see
   NOISE), and `--unrelated` new lessons that share nothing: lookup p50/p95 (the whole
   report-step check: keep, vote, verify), recall of the planted re-uses (per
   transformation too), false matches among the unrelated, storage per lesson-hour, fill
   time; and the brute-force reference (every indexed lesson compared in full, as the old
   verification did) timed on a sample and extrapolated, as a ratio.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import text

from bench.timing import decode_only
from index import db
from pipelines import profile as profiles
from pipelines.media import decode
from pipelines.media.probe import probe
from pipelines.originality import config, cross, match, prints
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
    """Bytes a lesson keeps (prints) and its index keys, per lesson-hour."""
    cfg = config.load()
    keys = len(prints.index_keys(mine, cfg.picture, cfg.sound, cfg.lookup.tick_s))
    blob = len(prints.picture_bytes(mine)) + len(prints.sound_bytes(mine))
    hours = duration_s / 3600
    return {"prints_bytes_per_hour": blob / hours, "keys_per_hour": keys / hours}


# ---- 3. synthetic index ----

# Measured by bench/originality_noise.py on real media (docs/originality.md): the mean Hamming distance
# of a frame's hash to the original's, and the sound bit-error rate, each transformation adds; None: that
# part is not re-used (the lesson's own picture or sound there).
NOISE: dict[str, tuple[float | None, float | None]] = {
    "re-encoded 1 Mbps": (0.07, 0.012), "re-encoded 8 Mbps": (0.02, 0.003), "720p to 1080p": (0.85, 0.003),
    "crop 10 %": (14.41, 0.003), "letterbox": (1.0, 0.003), "brightness +20 %": (0.05, 0.003),
    "brightness -20 %": (3.47, 0.003),
    "mirrored": (0.85, 0.003), "sound at another level": (0.03, 0.002), "sound re-recorded": (0.03, 0.129),
    "picture only (new narration)": (0.07, None), "sound only (other pictures)": (None, 0.012),
    "re-recorded sound only": (None, 0.129),
}
# Sound bit-error rate against the phase at which a copy's cut samples the sound (fraction of a
# Chromaprint step, measured on recorded speech); picture: up to 1 bit on moving footage at half a frame.
PHASE = (np.array([0, 1 / 16, 1 / 8, 3 / 16, 1 / 4, 3 / 8, 1 / 2]),
         np.array([0.000, 0.012, 0.026, 0.038, 0.050, 0.073, 0.093]))
PICTURE_PHASE_BITS = 2.0  # mean bits at phase 0.5 of a frame step is 1.0
MIRROR = np.uint64(0x5A5A_A5A5_0FF0_F00F)  # synthetic: a lesson's mirrored hashes are its hashes ^ MIRROR


class Synth:
    """Synthetic lessons: scenes of 64-bit hashes (30 % moving ~3 bits a frame, the rest still), random sound."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def bits(self, counts: np.ndarray) -> np.ndarray:
        """One mask per count, with that many random bits set (collisions allowed)."""
        masks = np.zeros(len(counts), np.uint64)
        for k in range(int(counts.max(initial=0))):
            on = counts > k
            masks[on] |= np.uint64(1) << self.rng.integers(0, 64, int(on.sum()), dtype=np.uint64)
        return masks

    def lesson(self, minutes: float) -> Prints:
        frames = int(minutes * 60 * FPS)
        lengths = np.maximum(4, self.rng.exponential(20, frames // 4).astype(int))
        scene = np.searchsorted(np.cumsum(lengths), np.arange(frames), side="right")
        heads = self.rng.integers(0, 2**63, len(lengths), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        moving = self.rng.random(len(lengths)) < 0.3  # 30 % moving shots, 70 % slides (encoding noise only)
        drift = np.where(moving[scene], self.bits(np.full(frames, 3)),
                         self.bits(np.ones(frames, int)) * (self.rng.random(frames) < 0.3))
        picture = heads[scene] ^ drift
        sound = self.rng.integers(1, 2**32, int(minutes * 60 / STEP_S), dtype=np.uint64).astype(np.uint32)
        return Prints(picture, picture ^ MIRROR, 1 / FPS, sound)

    def planted(self, source: Prints, seconds: float, kind: str) -> Prints:
        """A 20-min lesson holding `seconds` of `source` at a random place, with `kind`'s measured noise."""
        mine = self.lesson(20)
        pic_bits, ber = NOISE[kind]
        n = int(seconds * FPS)
        at, of = int(self.rng.integers(0, len(mine.picture) - n)), int(self.rng.integers(0, len(source.picture) - n))
        if pic_bits is not None:
            mean = pic_bits + PICTURE_PHASE_BITS * self.rng.uniform(0, 0.5)
            copy = source.picture[of:of + n] ^ self.bits(self.rng.poisson(mean, n))
            if kind == "mirrored":
                mine.mirrored[at:at + n], mine.picture[at:at + n] = copy, copy ^ MIRROR
            else:
                mine.picture[at:at + n], mine.mirrored[at:at + n] = copy, copy ^ MIRROR
        if ber is not None:
            m, s_at, s_of = int(seconds / STEP_S), int(at / FPS / STEP_S), int(of / FPS / STEP_S)
            rate = ber + float(np.interp(self.rng.uniform(0, 0.5), *PHASE))
            flips = self.bits(self.rng.poisson(32 * rate, m)).astype(np.uint32)  # uint64 masks: low 32 bits kept
            mine.sound[s_at:s_at + m] = source.sound[s_of:s_of + m] ^ flips
        return mine


def fill(database: db.Database, synth: Synth, count: int, batch: int = 500) -> tuple[list[tuple[str, Prints]], float]:
    """`count` synthetic lessons straight into the index; the first 200 (planting sources), hours of lesson."""
    cfg = config.load()
    kept: list[tuple[str, Prints]] = []
    hours = 0.0
    _bulk(database, "begin")
    for first in range(0, count, batch):
        lessons = [(f"syn-{i:06d}", i + 1, synth.lesson(float(synth.rng.uniform(15, 45))))
                   for i in range(first, min(count, first + batch))]
        hours += sum(len(p.picture) / FPS for _, _, p in lessons) / 3600
        _write(database, [(j, n, p, prints.index_keys(p, cfg.picture, cfg.sound, cfg.lookup.tick_s))
                          for j, n, p in lessons])
        kept += [(j, p) for j, _, p in lessons[:max(0, 200 - len(kept))]]
        if (first // batch) % 20 == 0:
            print(f"  {first + len(lessons)} lessons written", flush=True)
    _bulk(database, "end", count)
    return kept, hours


def _bulk(database: db.Database, when: str, count: int = 0) -> None:
    """Bulk load: the key index is built once after the load (PostgreSQL: the primary key dropped and added
    again; SQLite: the keys go to a plain table first, then into the WITHOUT ROWID table in key order)."""
    with database.engine.begin() as conn:
        pg = database.dialect == "postgresql"
        if when == "begin":
            conn.execute(text("ALTER TABLE print_keys DROP CONSTRAINT print_keys_pkey") if pg
                         else text("CREATE TABLE bench_keys (key INTEGER, lesson_no INTEGER, at INTEGER)"))
            return
        started = time.perf_counter()
        if pg:
            conn.execute(text("SET LOCAL maintenance_work_mem = '2GB'"))
            conn.execute(text("ALTER TABLE print_keys ADD PRIMARY KEY (key, lesson_no, at)"))
        else:
            conn.execute(text("PRAGMA cache_size = -2000000"))
            conn.execute(text("INSERT INTO print_keys SELECT key, lesson_no, at FROM bench_keys "
                              "ORDER BY key, lesson_no, at"))
            conn.execute(text("DROP TABLE bench_keys"))
        conn.execute(text("UPDATE print_numbers SET last = :n"), {"n": count})
        print(f"  key index built in {time.perf_counter() - started:.0f} s", flush=True)


def _write(database: db.Database, rows: list[tuple[str, int, Prints, prints.Keys]]) -> None:
    raw = database.engine.raw_connection()
    try:
        cur = raw.cursor()
        now = "2025-06-01 00:00:00"
        jobs = [(j, "synthetic", "synthetic", "done", "school", now, 0, 0) for j, _, _, _ in rows]
        cur.executemany(_sql(database, "INSERT INTO jobs (id, source, profile, status, level, submitted_at, "
                                       "callback_attempts, recoveries) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"), jobs)
        cur.executemany(_sql(database, "INSERT INTO fingerprints (job_id, lesson_no, version, picture, picture_step_s, "
                                       "sound, created_at) VALUES (?, ?, 2, ?, ?, ?, ?)"),
                        [(j, n, prints.picture_bytes(p), p.picture_step_s, prints.sound_bytes(p), now)
                         for j, n, p, _ in rows])
        key = np.concatenate([k.key for _, _, _, k in rows])
        number = np.concatenate([np.full(len(k), n, np.int64) for _, n, _, k in rows])
        at = np.concatenate([k.at for _, _, _, k in rows])
        if database.dialect == "postgresql":
            with cur.copy("COPY print_keys (key, lesson_no, at) FROM STDIN WITH (FORMAT binary)") as copy:
                copy.write(_binary_copy(key, number, at))
        else:
            cur.executemany("INSERT INTO bench_keys VALUES (?, ?, ?)", zip(key.tolist(), number.tolist(), at.tolist()))
        raw.commit()
    finally:
        raw.close()


def _binary_copy(key: np.ndarray, number: np.ndarray, at: np.ndarray) -> bytes:
    """PostgreSQL's binary COPY of (bigint, integer, integer) rows, built in numpy."""
    rows = np.zeros(len(key), [("n", ">i2"), ("l1", ">i4"), ("k", ">i8"), ("l2", ">i4"), ("no", ">i4"),
                               ("l3", ">i4"), ("at", ">i4")])
    rows["n"], rows["l1"], rows["k"], rows["l2"], rows["no"], rows["l3"], rows["at"] = 3, 8, key, 4, number, 4, at
    return b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + rows.tobytes() + b"\xff\xff"


def _sql(database: db.Database, sql: str) -> str:
    return sql.replace("?", "%s") if database.dialect == "postgresql" else sql


def lookups(database: db.Database, synth: Synth, sources: list[tuple[str, Prints]], planted: int,
            unrelated: int) -> dict[str, object]:
    index = originality.IndexLessons(lambda: database)
    times: list[float] = []
    kinds = list(NOISE)
    per_kind: dict[str, list[int]] = {k: [0, 0] for k in kinds}
    for i in range(planted):
        job_id, source = sources[i % len(sources)]
        kind = kinds[i % len(kinds)]
        mine = synth.planted(source, float(synth.rng.uniform(30, 60)), kind)
        started = time.perf_counter()
        result = cross.check(f"new-{i}", mine, index, len(mine.picture) / FPS)
        times.append(time.perf_counter() - started)
        per_kind[kind][0] += any(f.evidence.get("other_job_id") == job_id for f in result)
        per_kind[kind][1] += 1
    false = 0
    for i in range(unrelated):
        mine = synth.lesson(float(synth.rng.uniform(15, 45)))
        started = time.perf_counter()
        result = cross.check(f"other-{i}", mine, index, len(mine.picture) / FPS)
        times.append(time.perf_counter() - started)
        false += bool(result)
        for f in result:
            print(f"  false match: {f.code} {f.start_s}-{f.end_s} {json.dumps(f.evidence, default=str)}", flush=True)
    found = sum(f for f, _ in per_kind.values())
    return {"lookups": len(times), "p50_s": round(statistics.median(times), 3),
            "p95_s": round(float(np.percentile(times, 95)), 3), "max_s": round(max(times), 3),
            "recall": round(found / max(1, planted), 3), "found": found, "planted": planted,
            "per_kind": {k: f"{f}/{n}" for k, (f, n) in per_kind.items()},
            "false_matches": false, "unrelated": unrelated}


def brute_force(database: db.Database, synth: Synth, sources: list[tuple[str, Prints]], lessons: int,
                sample: int = 20) -> dict[str, float]:
    """The reference: a new lesson compared in full (every offset, as the old verification did) with
    `sample` indexed lessons; seconds a lookup over all `lessons` would take, extrapolated."""
    cfg = config.load()
    mine = synth.planted(sources[0][1], 45.0, "re-encoded 1 Mbps")
    started = time.perf_counter()
    found = 0
    for _, theirs in sources[:sample]:
        found += bool(match.runs(mine, theirs, cfg.picture, cfg.sound, cfg.matching, cfg.matching.min_seconds))
    per_lesson = (time.perf_counter() - started) / sample
    return {"brute_force_s_per_lesson": round(per_lesson, 4), "brute_force_lookup_s": round(per_lesson * lessons, 1),
            "brute_force_found_source": bool(found)}


def size_of(database: db.Database) -> int:
    with database.engine.connect() as conn:
        if database.dialect == "postgresql":
            return int(conn.execute(text("SELECT pg_total_relation_size('fingerprints') + "
                                         "pg_total_relation_size('print_keys')")).scalar())
    return Path(database.engine.url.database).stat().st_size


def run_backend(url: str, args: argparse.Namespace) -> dict[str, object]:
    database = db.open_database(url)
    synth = Synth(7)
    started = time.perf_counter()
    if args.skip_fill:
        sources, hours = filled(database)
        synth = Synth(8)  # other new lessons than the fill's run would have drawn
    else:
        sources, hours = fill(database, synth, args.lessons)
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if database.dialect == "postgresql" else "ANALYZE"))
    with database.engine.connect() as conn:
        key_rows = int(conn.execute(text("SELECT count(*) FROM print_keys")).scalar())
        lessons = int(conn.execute(text("SELECT count(*) FROM fingerprints")).scalar())
    size = size_of(database)
    out: dict[str, object] = {"backend": database.dialect, "lessons": lessons,
                              "fill_s": None if args.skip_fill else round(time.perf_counter() - started),
                              "lesson_hours": round(hours), "size_mib": round(size / 2**20),
                              "bytes_per_lesson_hour": round(size / hours),
                              "key_rows_per_lesson_hour": round(key_rows / hours)}
    print(f"  {json.dumps(out)}", flush=True)
    out |= lookups(database, synth, sources, args.planted, args.unrelated)
    reference = brute_force(database, synth, sources, lessons)
    out |= reference | {"brute_force_ratio": round(reference["brute_force_lookup_s"] / out["p50_s"])}
    print(f"RESULT {json.dumps(out, ensure_ascii=False)}", flush=True)
    return out


def filled(database: db.Database) -> tuple[list[tuple[str, Prints]], float]:
    """An index filled before: its first 200 lessons (planting sources) and its hours of lesson."""
    from index import prints as stored

    with database.session() as session:
        rows = stored.load(session, list(range(1, 201)))
        frames = session.execute(text("SELECT sum(length(picture)) / 8 FROM fingerprints")).scalar()
    return ([(r.job_id, prints.from_bytes(r.picture, r.picture_step_s, r.sound)) for r in rows],
            float(frames) / FPS / 3600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, help="the lesson to time (default: the 15-min benchmark lesson)")
    parser.add_argument("--lessons", type=int, default=100_000)
    parser.add_argument("--planted", type=int, default=130)
    parser.add_argument("--unrelated", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sqlite-dir", type=Path, help="where the scratch SQLite file goes (default: a temp dir)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a server where a scratch database is made and dropped")
    parser.add_argument("--url", help="use this database (a PostgreSQL URL or a SQLite file's path), kept afterwards")
    parser.add_argument("--skip-fill", action="store_true", help="--url's database was filled by an earlier run")
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    if not args.skip_cost:
        from bench.bench_check import lesson15
        print("cost on the benchmark lesson:", cost(args.video or lesson15()))
    if args.url:
        run_backend(originality.database_at(args.url).url, args)
        return
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(dir=args.sqlite_dir) as tmp:
            print(f"SQLite, {args.lessons} lessons:")
            run_backend(f"sqlite:///{tmp}/bench.sqlite3", args)
    if args.backend in ("postgresql", "both"):
        print(f"PostgreSQL, {args.lessons} lessons:")
        with scratch_postgres(args.postgres) as url:
            run_backend(url, args)


class scratch_postgres:  # noqa: N801 - a context manager used like a function
    """A fresh database on the server, dropped afterwards."""

    def __init__(self, admin_url: str):
        self.admin, self.name = admin_url, f"lqc_lookup_bench_{uuid.uuid4().hex[:8]}"

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
