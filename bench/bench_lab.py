"""The lab stage versus decode-only on a 45-minute 1080p25 lab recording (target: lab <= 0.3 x decode).

The recording is generated once into .cache/bench/: a 3-minute block (two bench scenes, a
walking teacher, a slow pan; drawn at 960x540, scaled to 1080p, 8 Mbps) encoded once and
repeated by stream copy. Prints, from one run: decode-only seconds, the lab consumer's
seconds on the shared 2 fps stream (what the stage adds to `lessonqc check`, whose signal
pass decodes anyway), and the wall time of a standalone `stream_frames` run with just it.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.timing import CACHE, decode_only, run_frame_stage
from pipelines.media import decode
from pipelines import profile as profiles
from pipelines import stages
from pipelines.frames import StubConsumer
from pipelines.lab.stage import LabStage
from pipelines.media.probe import probe
from testmedia import cached, clips
from testmedia import lab as labmedia
from testmedia.lab import Scene

BLOCK_S = 180
ENCODE = ("-c:v", "libx264", "-preset", "ultrafast", "-b:v", "8M", "-maxrate", "8M", "-bufsize", "16M")


def block(folder: Path) -> Path:
    """Three minutes of 1080p25: a steady view with a teacher walking, then a slow pan over another bench."""
    a = cached(folder, "lab-bench-A.png", labmedia.draw_scene, 960, 540, 1, "实验一：酸碱中和")
    b = cached(folder, "lab-bench-B.png", labmedia.draw_scene, 960, 540, 2, "实验二：光的折射", margin=200)
    half = BLOCK_S / 2
    scenes = [Scene(a, half, labmedia.steady(960, 540), "scale=1920:1080", person=True),
              Scene(b, half, labmedia.panned(960, 540, half, 200), "scale=1920:1080")]
    return cached(folder, "lab-block.mp4", labmedia.clip, scenes, fps=25, encode=ENCODE)


def recording(minutes: int) -> Path:
    """The benchmark recording of `minutes` (a multiple of 3), generated once."""
    return cached(CACHE, f"lab{minutes}.mp4", clips.repeated, block(CACHE), max(1, minutes * 60 // BLOCK_S))


def lab_run(path: Path, work: Path) -> tuple[float, float, float, dict]:
    """(consumer seconds on the stream, finish seconds, standalone wall seconds, metrics) of one run."""
    output, streamed, finish, wall = run_frame_stage(LabStage(), "lab", path, work)
    return streamed, finish, wall, output.metrics


def stub_run(path: Path) -> float:
    """Wall seconds of the shared stream alone (decode, 2 fps, gray, pipe) with a do-nothing consumer."""
    profile = profiles.load("lab")
    media = probe(path, profile).media
    return decode.stream_frames(path, stages.shared_frame_spec(profile), (media.video.width, media.video.height),
                                [StubConsumer()]).seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--minutes", type=int, default=45, help="length of the generated recording")
    parser.add_argument("--stub", action="store_true", help="also time the stream with a do-nothing consumer")
    args = parser.parse_args()
    path = args.video or recording(args.minutes)
    base = decode_only(path)
    with tempfile.TemporaryDirectory() as tmp:
        consume_s, finish_s, standalone_s, metrics = lab_run(path, Path(tmp))
    lab_s = consume_s + finish_s
    print(f"file: {path.name}  {metrics['samples']} samples, {metrics['shot_count']} shots")
    print(f"decode-only (ffmpeg -f null)            {base:8.1f} s   1.00")
    print(f"lab stage on the shared stream          {lab_s:8.1f} s   {lab_s / base:.3f}"
          f"   (consume {consume_s:.1f} s + finish {finish_s:.1f} s)")
    print(f"standalone stream_frames + lab          {standalone_s:8.1f} s   {standalone_s / base:.2f}")
    if args.stub:
        stub = stub_run(path)
        print(f"standalone stream_frames, stub only     {stub:8.1f} s   {stub / base:.2f}")


if __name__ == "__main__":
    main()
