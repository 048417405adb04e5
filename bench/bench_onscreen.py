"""The on-screen stage on the 15-minute benchmark lesson (targets: OCR calls / distinct slides <= 1.3,
stage seconds / decode-only seconds <= 1.0).

Prints, from one run: the lesson's distinct slides (from its slide plan) and the stage's
OCR calls; decode-only seconds; the stage's seconds as `lessonqc check` counts them (its
consumer on the shared 2 fps stream plus `finish`, since the shared decode runs anyway);
and the wall time of a standalone run that decodes its own stream (a farm segment).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.bench_check import lesson15
from bench.timing import decode_only, run_frame_stage
from pipelines.onscreen.stage import OnscreenStage
from pipelines.domain import StageOutput
from testmedia.lesson import LessonSpec, slide_plan

LESSON_S = 900.0  # bench_check.lesson15()


def distinct_slides(seconds: float) -> int:
    """Distinct pictures in the benchmark lesson's slide plan."""
    return len({img.tobytes() for img, _ in slide_plan(LessonSpec(seconds=seconds))})


def run_stage(path: Path, workdir: Path) -> tuple[StageOutput, float, float, float]:
    """(output, consumer seconds on the stream, finish seconds, standalone wall seconds)."""
    return run_frame_stage(OnscreenStage(), "micro-primary", path, workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("video", nargs="?", type=Path, help="default: the 15-minute benchmark lesson")
    args = parser.parse_args()
    path = args.video or lesson15()
    with tempfile.TemporaryDirectory() as tmp:
        base = decode_only(path)
        output, streamed, finish, standalone = run_stage(path, Path(tmp))
    m = output.metrics
    slides = distinct_slides(LESSON_S) if args.video is None else None
    print(f"file: {path.name}  sampled frames {m['sampled_frames']}  scenes {m['scenes']}  "
          f"findings {sorted(f.code for f in output.findings)}")
    if slides:
        print(f"OCR calls / distinct slides        {m['ocr_frames']:5d} / {slides:<5d} {m['ocr_frames'] / slides:.2f}   (target <= 1.3)")
    print(f"decode-only (ffmpeg -f null)        {base:8.1f} s   1.00")
    print(f"stage in lessonqc check             {streamed + finish:8.1f} s   {(streamed + finish) / base:.2f}   "
          f"(consume {streamed:.1f} s + finish {finish:.1f} s: ocr {m['ocr_s']:.1f}, codes {m['codes_s']:.1f};"
          f" target <= 1.0)")
    print(f"standalone (own decode + finish)    {standalone:8.1f} s   {standalone / base:.2f}")


if __name__ == "__main__":
    main()
