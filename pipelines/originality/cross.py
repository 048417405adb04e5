"""The report step's originality check: this lesson's prints against the index of other lessons.

The farm's report step and `lessonqc check --index` both call `check()` from the one report
assembly (pipelines/assemble.py) with a `LessonIndex`; workers/originality.py implements it
over the database. The lesson's (key, time) pairs vote per indexed lesson for a time offset;
only the best-voted (lesson, offset) pairs are verified, along those offsets only. Material
registered as common in config/originality.yaml is masked out of the prints first (and so
never indexed nor matched).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from pipelines.domain import Finding
from pipelines.frames import FrameSpec
from pipelines.media import decode
from pipelines.media import source as sources
from pipelines.media.probe import probe
from pipelines.originality import config, findings, match, prints
from pipelines.originality.config import Lookup, Originality
from pipelines.originality.findings import Other
from pipelines.originality.prints import Prints
from pipelines.originality.sound import chromaprint
from pipelines.originality.stage import PictureConsumer
from pipelines.profile import Profile


class LessonIndex(Protocol):
    """What matching asks of the index of lessons."""

    def keep(self, job_id: str, mine: Prints) -> None:
        """Keep this lesson's prints and keys (committed) before it is matched: of two lessons checked at
        once, the later lookup then finds the other."""

    def votes(self, packed: list[int], exclude: str, bucket: int, min_votes: int) -> dict[int, dict[int, int]]:
        """Votes of the keys equal to the query's (`Keys.packed`) per indexed lesson (its number; not
        `exclude`'s) and time offset bucket of `bucket` ticks: the buckets that with a neighbour hold at least
        `min_votes`."""

    def prints(self, lesson_nos: list[int]) -> dict[int, tuple[Other, Prints]]:
        """Each lesson's metadata and its stored prints, by its number (numbers without prints left out)."""


@dataclass(frozen=True)
class Candidate:
    """An indexed lesson worth verifying, at the offsets (seconds, theirs minus mine) its keys voted for."""

    lesson_no: int
    offsets_s: tuple[float, ...]
    votes: int


def check(job_id: str, mine: Prints, index: LessonIndex, duration_s: float) -> list[Finding]:
    """originality.* findings of one lesson (its prints already without common material)."""
    cfg = config.load()
    if mine.empty:
        return []
    index.keep(job_id, mine)
    keys = prints.query_keys(mine, cfg.picture, cfg.sound, cfg.lookup.tick_s)
    bucket = max(1, round(cfg.lookup.bucket_s / cfg.lookup.tick_s))
    chosen = candidates(index.votes(keys.packed(), job_id, bucket, cfg.lookup.min_votes), bucket * cfg.lookup.tick_s,
                        cfg.lookup)
    out: list[Finding] = []
    loaded = index.prints([c.lesson_no for c in chosen]) if chosen else {}
    for candidate in (c for c in chosen if c.lesson_no in loaded):
        other, theirs = loaded[candidate.lesson_no]
        runs = match.runs(mine, theirs, cfg.picture, cfg.sound, cfg.matching, cfg.matching.min_seconds,
                          match.Around(candidate.offsets_s, cfg.lookup.verify_slack_s))
        found = findings.stretches(runs, cfg.matching)
        out += findings.reused(other, found)
        if (dup := findings.duplicate(other, found, duration_s, cfg.matching)) is not None:
            out.append(dup)
    return out


def candidates(votes: dict[int, dict[int, int]], bucket_s: float, rules: Lookup) -> list[Candidate]:
    """The (lesson, offset) pairs with at least `min_votes` votes in two neighbouring buckets (an offset on a
    bucket's edge counts whole), at most `max_offsets` a lesson, the `max_candidates` best; by lesson."""
    pairs: list[tuple[int, int, float]] = []
    for lesson, per in votes.items():
        scored = sorted(((per.get(b, 0) + per.get(b + 1, 0), b) for b in set(per) | {b - 1 for b in per}),
                        key=lambda x: (-x[0], x[1]))
        chosen: list[int] = []
        for n, b in scored:
            if n < rules.min_votes or len(chosen) >= rules.max_offsets:
                break
            if all(abs(b - c) > 1 for c in chosen):
                chosen.append(b)
                pairs.append((n, lesson, (b + 1) * bucket_s))
    pairs.sort(key=lambda p: (-p[0], p[1]))
    by_lesson: dict[int, list[tuple[int, float]]] = {}
    for n, lesson, offset in pairs[:rules.max_candidates]:
        by_lesson.setdefault(lesson, []).append((n, offset))
    return [Candidate(lesson, tuple(o for _, o in found), sum(n for n, _ in found))
            for lesson, found in by_lesson.items()]


def without_common(mine: Prints, cfg: Originality | None = None) -> Prints:
    """`mine` with every stretch matching registered common material masked out."""
    cfg = cfg or config.load()
    picture = np.zeros(len(mine.picture), bool)
    sound = np.zeros(len(mine.sound), bool)
    for common in common_prints(cfg):
        for run in match.runs(mine, common, cfg.picture, cfg.sound, cfg.matching, cfg.matching.common_seconds):
            mask, step = (picture, mine.picture_step_s) if run.kind == "picture" else (sound, mine.sound_step_s)
            mask[int(run.start_s / step):int(np.ceil(run.end_s / step))] = True
    return mine.masked(picture, sound) if picture.any() or sound.any() else mine


def common_prints(cfg: Originality) -> list[Prints]:
    return [_common(str(path)) for _, path in cfg.common_files()]


@lru_cache(maxsize=64)
def _common(path: str) -> Prints:
    from pipelines import profile as profiles  # the default profile's probe limits

    return fingerprint_file(Path(path), profiles.load("micro-primary"))


def fingerprint_file(path: Path, profile: Profile, roots: tuple[Path, ...] = ()) -> Prints:
    """The prints of a video file on its own (archives, common material): one frame decode, one audio decode."""
    cfg = config.load()
    spec = FrameSpec(fps=profile.frames.fps, max_height=profile.frames.max_height)
    with sources.opened(path, roots) as held, tempfile.TemporaryDirectory(prefix="lessonqc-fp-") as tmp:
        media = probe(held, profile).media
        consumer = PictureConsumer(cfg.picture, Path(tmp), 1.0 / spec.fps)
        decode.stream_frames(held, spec, (media.video.width, media.video.height), [consumer],
                             timeout_s=max(600.0, media.duration_s * 3), video_stream=media.video.stream)
        hashes = prints.read_picture(Path(consumer.finish().artifacts[prints.PICTURE_ARTIFACT]))
        sound = np.zeros(0, np.uint32)
        if media.audio is not None:
            wav = decode.extract_audio(held, Path(tmp) / "audio.wav")
            sound = chromaprint(wav, cfg.sound.timeout_s)
    return Prints(hashes[0], hashes[1], hashes[2], sound)
