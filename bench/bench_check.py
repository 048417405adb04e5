"""Signal pass and whole `lessonqc check` versus decode-only on the 15-minute benchmark lesson.

Prints ratios measured in one run (absolute times vary on a noisy 2-core machine).
"""
from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from bench.timing import CACHE, best_of, decode_only, seconds
from pipelines import profile as profiles
from pipelines import registry, stages
from pipelines.check import check
from pipelines.frames import StubConsumer
from pipelines.media import decode, faults
from pipelines.media.probe import probe
from testmedia import cached
from testmedia.lesson import LessonSpec, make_lesson


def lesson15() -> Path:
    """The benchmark lesson: 15 min 1080p25, static slides, moving inset, speech (generated once)."""
    return cached(CACHE, "lesson15.mp4", make_lesson, LessonSpec(seconds=900.0))


class Overlap(logging.Handler):
    """Collects the signal task's record of how long each audio stage ran alongside the decode."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "overlap"):
            self.seen.append(record.overlap)


def whole_check(path: Path, profile, out: Path) -> tuple[float, list[dict]]:
    """Wall seconds of `lessonqc check` with every stage, and the audio stages' overlap records."""
    handler, logger = Overlap(), logging.getLogger("pipelines.plan")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        return seconds(lambda: check(path, profile, out)), handler.seen
    finally:
        logger.removeHandler(handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each timing (minimum kept)")
    args = parser.parse_args()
    path = args.video or lesson15()
    profile = profiles.load("micro-primary")
    media = probe(path, profile).media
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = best_of(args.repeat, lambda: decode_only(path))
        sig = best_of(args.repeat, lambda: faults.run_signal(path, media, profile, work))
        shared = best_of(args.repeat, lambda: faults.run_signal(
            path, media, profile, work, [StubConsumer()], stages.shared_frame_spec(profile)))
        audio = best_of(args.repeat, lambda: decode.extract_audio(path, work / "a.wav"))
        spine = seconds(lambda: check(path, profile, work / "spine", skip=frozenset(registry.all_stages())))
        media_side = seconds(lambda: check(path, profile, work / "nospeech", skip=frozenset({"speech"})))
        whole, overlaps = whole_check(path, profile, work / "out")
    print(f"file: {path.name}  {media.duration_s:.0f} s  {media.video.width}x{media.video.height} @ {media.video.fps:g} fps")
    print(f"decode-only (ffmpeg -f null)        {base:8.1f} s   1.00")
    print(f"signal pass (filters only)          {sig:8.1f} s   {sig / base:.2f}")
    print(f"shared decode (+2 fps frames)       {shared:8.1f} s   {shared / base:.2f}")
    print(f"audio-only decode (16 kHz WAV)      {audio:8.1f} s   {audio / base:.2f}")
    print(f"lessonqc check, spine only          {spine:8.1f} s   {spine / base:.2f}   (probe + signal + report)")
    print(f"lessonqc check, speech skipped      {media_side:8.1f} s   {media_side / base:.2f}   (speech on another node)")
    print(f"lessonqc check, all stages          {whole:8.1f} s   {whole / base:.2f}   ({', '.join(registry.all_stages())})")
    for o in overlaps:
        print(f"  {o['stage']}: {o['stage_s']:.1f} s, of it {o['overlap_s']:.1f} s ({o['overlap_s'] / o['stage_s']:.0%}) "
              f"alongside the {o['decode_s']:.1f} s decode")


if __name__ == "__main__":
    main()
