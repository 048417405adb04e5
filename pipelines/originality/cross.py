"""The report step's originality check: this lesson's prints against the index of other lessons.

The farm's report step and `lessonqc check --index` both call `check()` from the one report
assembly (pipelines/assemble.py) with a `LessonIndex`; workers/originality.py implements it
over the database. Material registered as common in config/originality.yaml is masked out of
the prints first (and so never indexed nor matched).
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterable
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
from pipelines.originality.config import Originality
from pipelines.originality.findings import Other
from pipelines.originality.prints import Prints
from pipelines.originality.sound import chromaprint
from pipelines.originality.stage import PictureConsumer
from pipelines.profile import Profile


class LessonIndex(Protocol):
    """What matching asks of the index of lessons."""

    def candidates(self, keys: set[int], exclude: str, limit: int, min_hits: int) -> list[str]:
        """Ids of the lessons sharing the most index keys (at least `min_hits`), most first."""

    def prints(self, job_ids: list[str]) -> Iterable[tuple[Other, Prints]]:
        """Each lesson's metadata and its stored prints."""


def check(job_id: str, mine: Prints, index: LessonIndex, duration_s: float) -> list[Finding]:
    """originality.* findings of one lesson (its prints already without common material)."""
    cfg = config.load()
    if mine.empty:
        return []
    keys = prints.query_keys(mine, cfg.picture, cfg.sound)
    ids = index.candidates(keys, job_id, cfg.matching.max_candidates, cfg.matching.min_key_hits)
    out: list[Finding] = []
    for other, theirs in index.prints(ids) if ids else ():
        found = findings.stretches(match.runs(mine, theirs, cfg.picture, cfg.sound, cfg.matching,
                                              cfg.matching.min_seconds), cfg.matching)
        out += findings.reused(other, found)
        if (dup := findings.duplicate(other, found, duration_s, cfg.matching)) is not None:
            out.append(dup)
    return out


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
