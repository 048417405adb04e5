"""Shared helpers for benchmarks: wall time of a callable, decode-only baseline."""
from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "bench"


def seconds(fn: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def decode_only(path: Path) -> float:
    """`ffmpeg -i f -f null -`: the decode-only baseline every ratio divides by."""
    return seconds(lambda: subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
                                           "-f", "null", "-"], check=True))


def best_of(n: int, fn: Callable[[], object]) -> float:
    """Minimum wall time over n runs (the machine is noisy; the minimum is the least disturbed)."""
    return min(seconds(fn) for _ in range(n))


def run_frame_stage(stage, profile_name: str, path: Path, work: Path):
    """One frame stage alone on its own stream: (output, consumer s on the stream, finish s, wall s)."""
    from pipelines.media import decode
    from pipelines import profile as profiles
    from pipelines import stages
    from pipelines.media.probe import probe

    profile = profiles.load(profile_name)
    media = probe(path, profile).media
    consumer = stage.consumer(stages.StageContext(path, media, profile, work))
    started = time.perf_counter()
    log = decode.stream_frames(path, stage.frame_spec(profile), (media.video.width, media.video.height), [consumer])
    finish_started = time.perf_counter()
    output = consumer.finish()
    done = time.perf_counter()
    return output, log.consumer_seconds[consumer.name], done - finish_started, done - started
